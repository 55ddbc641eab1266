"""Field rules for sample text, shared by the API serializers, the portal forms and the admin.

Each function returns the cleaned value or raises `InvalidInput` with field errors, so every
entry point refuses the same things with the same words.
"""

import re

from content.models import SampleKind
from content.screening import UnsafeText, normalize_text
from nutrition_pro.exceptions import InvalidInput

BODY_MAX_CHARS = 20_000
TITLE_MAX_CHARS = 200
BATCH_MAX_ITEMS = 50

# An opening or closing tag, a comment or a doctype: plain text only, and we refuse rather
# than strip, so nothing hidden in markup survives into a prompt.
_HTML = re.compile(
    r"<\s*(?:[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?|/\s*[a-zA-Z][\w:-]*\s*|!--.*?--|!doctype[^>]*)>", re.S
)
_HTML_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


def _error(field: str, message: str) -> InvalidInput:
    return InvalidInput(details={field: [message]})


def clean_text(value, *, field: str, max_chars: int, required: bool) -> str:
    """Plain text, NFKC-normalised, no control characters, no HTML, within its length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _error(field, "Must be a string.")
    try:
        value = normalize_text(value).strip()
    except UnsafeText as exc:
        raise _error(field, str(exc)) from None
    if required and not value:
        raise _error(field, "This field may not be blank.")
    if len(value) > max_chars:
        raise _error(field, f"At most {max_chars} characters (this has {len(value)}).")
    if _HTML.search(value) or _HTML_ENTITY.search(value):
        raise _error(field, "Send plain text: HTML tags and entities are not accepted.")
    return value


def clean_body(value) -> str:
    return clean_text(value, field="body", max_chars=BODY_MAX_CHARS, required=True)


def clean_title(value) -> str:
    title = clean_text(value, field="title", max_chars=TITLE_MAX_CHARS, required=False)
    if "\n" in title:
        raise _error("title", "A title is one line.")
    return title


def clean_kind(value) -> str:
    if value not in SampleKind.values:
        raise _error("kind", f"One of: {', '.join(SampleKind.values)}.")
    return value


def clean_language(value) -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise _error("language", "A language code such as 'en', 'de' or 'pt-BR'.")
    return value

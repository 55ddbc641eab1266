"""Redaction of personal data (threat T8) before prompts and responses are stored or sent.

Patterns, not a model: e-mail addresses, phone numbers, postal addresses (street lines and
postcodes) and full calendar dates (dates of birth; a nutrition text has no need for a full
date). Each is replaced by a label so the text still reads: "call [PHONE]".
"""

import re
from dataclasses import dataclass, field

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|"
    r"juni|juli|oktober|dezember)"
)
_YEAR = r"(?:19|20)\d{2}"

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_DATE_BODY = (
    rf"(?:{_YEAR}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"  # 1985-03-12
    rf"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:{_YEAR}|\d{{2}})"  # 12/03/1985
    rf"|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/{_YEAR}"  # 03/12/1985
    rf"|(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\.?\s+{_MONTHS}\.?,?\s+{_YEAR}"  # 12 March 1985
    rf"|{_MONTHS}\.?\s+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?\s+{_YEAR})"  # March 12, 1985
)
DATE = re.compile(rf"(?i)\b{_DATE_BODY}\b")
# "born 12 March 1985", "DOB: 1985-03-12": the words stay, the date goes.
BIRTH_DATE = re.compile(
    r"(?i)\b(born(?:\s+(?:on|in))?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday"
    r"|geb\.?|geboren(?:\s+am)?)(\s*[:\-]?\s*)" + _DATE_BODY + r"\b"
)
# Digit groups with at most one separator between them: "+44 20 7946 0958", "(555) 123-4567".
PHONE = re.compile(r"(?<![\w+(])(?:\+|00)?\(?\d{1,4}\)?(?:[ .\-/]?\(?\d{2,5}\)?){2,5}(?![\w])")
_STREET_SUFFIX = (
    r"(?i:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|court|ct|way|place|pl|"
    r"square|sq|terrace|close|crescent|parkway|highway|hwy)"
)
STREET = re.compile(
    rf"(?x)\b\d{{1,5}}[a-zA-Z]?\s+(?:[A-Z][\w'\-]*\.?\s+){{1,4}}{_STREET_SUFFIX}\b"
    rf"(?:,?\s+(?:apt|apartment|suite|unit|flat)\.?\s*\#?\w+)?"
    rf"|\b[A-ZÄÖÜ][\wäöüß\-]*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)"
    rf"\s+\d{{1,4}}[a-zA-Z]?\b"
)
POSTCODE = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b"  # UK: SW1A 1AA
    r"|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"  # US: CA 94105
    r"|\b\d{4,5}\s+[A-ZÄÖÜ][a-zäöüß]+\b(?=\s*(?:$|[,.\n]))"  # DE/FR/NL: 10115 Berlin
)

LABELS = {
    "email": "[EMAIL]",
    "date_of_birth": "[DATE_OF_BIRTH]",
    "date": "[DATE]",
    "phone": "[PHONE]",
    "address": "[ADDRESS]",
}


@dataclass
class Redacted:
    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def _phone_like(match: re.Match) -> bool:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return 9 <= digits <= 15 or (match.group(0).startswith(("+", "00")) and digits >= 8)


def redact_personal_data(text: str) -> Redacted:
    """The text with personal data replaced by labels, and how many of each kind were found."""
    counts: dict[str, int] = {}

    def sub(pattern: re.Pattern, kind: str, value: str, accept=None, keep_prefix=False) -> str:
        def replace(match: re.Match) -> str:
            if accept is not None and not accept(match):
                return match.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            prefix = match.group(1) + match.group(2) if keep_prefix else ""
            return prefix + LABELS[kind]

        return pattern.sub(replace, value)

    if not text:
        return Redacted(text or "", counts)
    text = sub(EMAIL, "email", text)
    # Dates after a birth word are dates of birth; other full dates are redacted as dates.
    text = sub(BIRTH_DATE, "date_of_birth", text, keep_prefix=True)
    text = sub(DATE, "date", text)
    text = sub(STREET, "address", text)
    text = sub(POSTCODE, "address", text)
    text = sub(PHONE, "phone", text, accept=_phone_like)
    return Redacted(text, counts)


def redact_text(text: str | None) -> str | None:
    if text is None:
        return None
    return redact_personal_data(text).text

"""The API key format: np_<prefix>_<secret><checksum>.

- prefix: 10 lowercase base-36 characters, public, identifies the key (indexed lookup);
- secret: 32 base-62 characters from `secrets` (about 190 bits);
- checksum: CRC-32 of everything before it, as 6 base-62 characters, so a mistyped or
  truncated key is refused without a database read and a secret scanner can recognise
  a leaked key offline (see `looks_like_api_key`).

Only HMAC-SHA256(API_KEY_PEPPER, secret) is stored.
"""

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass

from django.conf import settings

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
PREFIX_ALPHABET = string.digits + string.ascii_lowercase
PREFIX_LENGTH = 10
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
KEY_PATTERN = re.compile(
    rf"^np_(?P<prefix>[0-9a-z]{{{PREFIX_LENGTH}}})_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})$"
)


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret: str


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def generate_key(prefix: str | None = None) -> tuple[str, ParsedKey]:
    """A new plaintext key and its parts. The plaintext must be shown once, then dropped."""
    prefix = prefix or generate_prefix()
    secret = "".join(secrets.choice(BASE62) for _ in range(SECRET_LENGTH))
    body = f"np_{prefix}_{secret}"
    return body + checksum(body), ParsedKey(prefix=prefix, secret=secret)


def parse_key(raw: str) -> ParsedKey | None:
    """The key's parts, or None for anything malformed or with a wrong checksum."""
    match = KEY_PATTERN.match(raw)
    if match is None:
        return None
    body = raw[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(checksum(body), match["checksum"]):
        return None
    return ParsedKey(prefix=match["prefix"], secret=match["secret"])


def looks_like_api_key(text: str) -> bool:
    """For secret scanners: a well-formed key with a valid checksum, no database needed."""
    return parse_key(text.strip()) is not None


def hash_secret(secret: str) -> str:
    return hmac.new(
        settings.API_KEY_PEPPER.encode("utf-8"), secret.encode("ascii"), hashlib.sha256
    ).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)

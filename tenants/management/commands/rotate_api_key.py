"""manage.py rotate_api_key KEY_PREFIX [--grace-hours H]"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from nutrition_pro.exceptions import ServiceError
from tenants import selectors, services
from tenants.management.commands._helpers import non_negative_number, service_error


class Command(BaseCommand):
    help = (
        "Issue a successor key; the old one keeps working until the grace period ends, "
        "then answers 401. Prints the new key, once, as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("key_prefix", help="the public prefix (np_<prefix>_...)")
        parser.add_argument(
            "--grace-hours", type=non_negative_number, default=24, help="default 24"
        )

    def handle(self, *args, key_prefix, grace_hours, **options):
        api_key = selectors.api_key_by_prefix(prefix=_bare_prefix(key_prefix))
        if api_key is None:
            raise CommandError(f"No API key with prefix {key_prefix!r}.")
        try:
            issued = services.api_key_rotate(api_key=api_key, grace=timedelta(hours=grace_hours))
        except ServiceError as error:
            raise service_error(error) from None
        api_key.refresh_from_db()
        self.stdout.write(
            f"Rotated {api_key.prefix}: it works until {api_key.expires_at:%Y-%m-%d %H:%M:%S} UTC."
        )
        self.stdout.write(f"New key {issued.api_key.prefix}, shown once; store it now:")
        self.stdout.write(issued.plaintext)


def _bare_prefix(text: str) -> str:
    """Accepts 'abc123', 'np_abc123' or 'np_abc123_' as the prefix."""
    text = text.strip()
    if text.startswith("np_"):
        text = text[3:]
    return text.split("_", 1)[0]

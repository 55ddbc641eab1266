"""manage.py revoke_api_key KEY_PREFIX"""

from django.core.management.base import BaseCommand, CommandError

from tenants import selectors, services
from tenants.management.commands.rotate_api_key import _bare_prefix


class Command(BaseCommand):
    help = "Revoke an API key at once (every process refuses it within a second)."

    def add_arguments(self, parser):
        parser.add_argument("key_prefix", help="the public prefix (np_<prefix>_...)")

    def handle(self, *args, key_prefix, **options):
        api_key = selectors.api_key_by_prefix(prefix=_bare_prefix(key_prefix))
        if api_key is None:
            raise CommandError(f"No API key with prefix {key_prefix!r}.")
        already = api_key.revoked_at is not None
        services.api_key_revoke(api_key=api_key)
        when = f"{api_key.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
        self.stdout.write(
            f"Key {api_key.prefix} was already revoked at {when}."
            if already
            else f"Revoked key {api_key.prefix} ({api_key.name}, tenant {api_key.tenant.slug})."
        )
        self.stdout.write(f"revoked {api_key.prefix} at {when}")

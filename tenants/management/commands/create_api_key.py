"""manage.py create_api_key TENANT_SLUG [--name N] [--scopes a,b] [--expires-days D]"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from nutrition_pro.exceptions import ServiceError
from tenants import services
from tenants.management.commands._helpers import positive_int, service_error
from tenants.models import ALL_SCOPES, Tenant


class Command(BaseCommand):
    help = "Issue an API key for a tenant. Prints the key, once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("--name", default="default", help="what the key is for")
        parser.add_argument(
            "--scopes", help=f"comma-separated, from: {', '.join(ALL_SCOPES)} (default: all)"
        )
        parser.add_argument("--expires-days", type=positive_int, help="days until it expires")

    def handle(self, *args, tenant_slug, name, scopes, expires_days, **options):
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {tenant_slug!r}.")
        scope_list = None
        if scopes is not None:
            scope_list = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            issued = services.api_key_issue(
                tenant=tenant, name=name, scopes=scope_list, expires_at=expires_at
            )
        except ServiceError as error:
            raise service_error(error) from None
        key = issued.api_key
        expiry = f"expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else "no expiry"
        self.stdout.write(
            f"Issued key {key.name!r} (prefix {key.prefix}) for {tenant.slug}: "
            f"scopes {', '.join(key.scopes)}; {expiry}"
        )
        self.stdout.write("The key is shown once; store it in your secret manager:")
        self.stdout.write(issued.plaintext)

"""Demo data for `make run`: an administrator (with TOTP), a tenant with its manager, a
dietitian with a portal account, and one API key. One-time secrets are printed once.

Idempotent: a second run keeps the data and prints no secret again, unless asked
with --new-key (another API key).
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro import mfa, roles
from tenants import services
from tenants.models import Dietitian, Tenant, TenantMembership

DEMO_SLUG = "demo-meals"
DEMO_DIETITIAN_REF = "demo-dietitian"
ADMIN_USERNAME = "admin"
MANAGER_USERNAME = "demo-manager"
DIETITIAN_USERNAME = "demo-dietitian"


def _password() -> str:
    return secrets.token_urlsafe(12)


class Command(BaseCommand):
    help = "Create demo data and print the one-time secrets."

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="Issue another demo key.")

    @transaction.atomic
    def handle(self, *args, new_key: bool, **options):
        User = get_user_model()
        lines = []

        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        if admin is None:
            password = _password()
            admin = User.objects.create_superuser(ADMIN_USERNAME, "admin@localhost", password)
            lines.append(
                f"Admin user:      {ADMIN_USERNAME} / {password}   (http://127.0.0.1:8000/admin/)"
            )
        admin.groups.add(Group.objects.get_or_create(name=roles.ADMINISTRATOR)[0])
        if not TOTPDevice.objects.filter(user=admin, confirmed=True).exists():
            device = TOTPDevice.objects.create(user=admin, name=mfa.TOTP_DEVICE_NAME)
            codes = mfa.backup_codes_regenerate(user=admin)
            lines.append("Admin TOTP (add to an authenticator app; shown once):")
            lines.append(f"  secret:        {mfa.totp_secret_base32(device)}")
            lines.append(f"  otpauth URI:   {device.config_url}")
            lines.append(f"  backup codes:  {' '.join(codes)}")

        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        created = tenant is None
        if created:
            tenant = services.tenant_create(name="Demo Meals", slug=DEMO_SLUG)

        if not User.objects.filter(username=MANAGER_USERNAME).exists():
            password = _password()
            manager = User.objects.create_user(MANAGER_USERNAME, "manager@localhost", password)
            TenantMembership.objects.create(tenant=tenant, user=manager)
            lines.append(
                f"Tenant manager:  {MANAGER_USERNAME} / {password}   "
                "(http://127.0.0.1:8000/portal/login/; sets up TOTP at first sign-in)"
            )

        dietitian, _ = Dietitian.objects.get_or_create(
            tenant=tenant,
            external_ref=DEMO_DIETITIAN_REF,
            defaults={"name": "Dana Demo", "ai_consent": True},
        )
        if (
            dietitian.user_id is None
            and not User.objects.filter(username=DIETITIAN_USERNAME).exists()
        ):
            password = _password()
            dietitian.user = User.objects.create_user(
                DIETITIAN_USERNAME, "dietitian@localhost", password
            )
            dietitian.save(update_fields=["user"])
            lines.append(
                f"Dietitian user:  {DIETITIAN_USERNAME} / {password}   "
                "(http://127.0.0.1:8000/portal/login/)"
            )
        lines.append(f"Tenant:          {tenant.name} (client-uuid {tenant.id})")
        lines.append(f"Dietitian:       {dietitian.name} (dietitian-uuid {dietitian.id})")

        if created or new_key:
            issued = services.api_key_issue(tenant=tenant, name="demo")
            lines.append("API key (shown once; keep it):")
            lines.append(issued.plaintext)
        else:
            lines.append("API key:         issued on the first run (use --new-key for another)")
        for line in lines:
            self.stdout.write(line)

"""Demo data for `make run`: an administrator, a tenant, a dietitian and one API key.

Idempotent: a second run keeps the data and issues nothing new unless asked with --new-key.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants import services
from tenants.models import Dietitian, Tenant

DEMO_SLUG = "demo-meals"


class Command(BaseCommand):
    help = "Create demo data and print the one-time secrets."

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="Issue another demo key.")

    @transaction.atomic
    def handle(self, *args, new_key: bool, **options):
        User = get_user_model()
        lines = []
        if not User.objects.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", "admin@localhost", password)
            lines.append(f"Admin user:      admin / {password}   (http://127.0.0.1:8000/admin/)")

        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        created = tenant is None
        if created:
            tenant = services.tenant_create(name="Demo Meals", slug=DEMO_SLUG)
        dietitian, _ = Dietitian.objects.get_or_create(
            tenant=tenant,
            external_ref="demo-dietitian",
            defaults={"name": "Dana Demo", "ai_consent": True},
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

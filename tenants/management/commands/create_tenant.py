"""manage.py create_tenant NAME [--slug S] [--plan P] [--rpm N] [--monthly-tokens N]"""

from django.core.management.base import BaseCommand, CommandError

from nutrition_pro.exceptions import ServiceError
from tenants import services
from tenants.management.commands._helpers import positive_int, service_error
from tenants.models import Plan


class Command(BaseCommand):
    help = "Create a tenant (a Meal Planner application). Prints its slug as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug", help="URL-safe identifier (default: from the name)")
        parser.add_argument("--plan", help="plan code whose limits the tenant starts with")
        parser.add_argument("--rpm", type=positive_int, help="requests per minute (all keys)")
        parser.add_argument("--monthly-tokens", type=positive_int, help="monthly token quota")

    def handle(self, *args, name, slug, plan, rpm, monthly_tokens, **options):
        plan_obj = None
        if plan:
            plan_obj = Plan.objects.filter(code=plan).first()
            if plan_obj is None:
                codes = ", ".join(Plan.objects.values_list("code", flat=True)) or "none yet"
                raise CommandError(f"No plan {plan!r} (plans: {codes}).")
        try:
            tenant = services.tenant_create(
                name=name,
                slug=slug,
                plan=plan_obj,
                requests_per_minute=rpm,
                monthly_token_quota=monthly_tokens,
            )
        except ServiceError as error:
            raise service_error(error) from None
        self.stdout.write(
            f"Created tenant {tenant.name!r} (client-uuid {tenant.id}, "
            f"{tenant.requests_per_minute} requests/minute, "
            f"{tenant.monthly_token_quota} tokens/month)"
        )
        self.stdout.write(tenant.slug)

"""`manage.py demo_samples`: writing samples for the demo dietitian (run by `make run`).

`tenants`' bootstrap_demo creates the demo tenant and dietitian; samples belong to
`content`, the higher app, so it adds them here. Each passes the injection screen through
`sample_create` like any upload. Running it again adds nothing.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from content import services
from content.models import ContentSample, SampleKind
from tenants.management.commands.bootstrap_demo import DEMO_DIETITIAN_REF, DEMO_SLUG
from tenants.models import Dietitian

DEMO_SAMPLES = [
    (
        SampleKind.DIET_INTRODUCTION,
        "Welcome to your Mediterranean month",
        "Welcome! For the next four weeks we eat the way the Mediterranean coast has eaten for "
        "generations: plenty of vegetables, beans and whole grains, fish twice a week, and "
        "olive oil instead of butter. Nothing is forbidden. We simply fill the plate with good "
        "things first. Expect to cook a little more than usual; I promise it gets quicker.",
    ),
    (
        SampleKind.MEAL_PLAN_SUMMARY,
        "Your week at a glance",
        "This week is about steady energy. Breakfast is oats or eggs with fruit, lunch is a big "
        "grain bowl you can prepare on Sunday, and dinner alternates between fish, lentils and "
        "chicken. Keep a handful of nuts for the afternoon dip. Drink water before you reach "
        "for coffee, and let me know on Friday how your evenings felt.",
    ),
]


class Command(BaseCommand):
    help = "Add writing samples to the demo dietitian (after bootstrap_demo)."

    @transaction.atomic
    def handle(self, *args, **options):
        dietitian = (
            Dietitian.objects.select_related("tenant")
            .filter(tenant__slug=DEMO_SLUG, external_ref=DEMO_DIETITIAN_REF)
            .first()
        )
        if dietitian is None:
            raise CommandError("No demo dietitian: run `manage.py bootstrap_demo` first.")
        existing = set(
            ContentSample.objects.filter(dietitian=dietitian).values_list("title", flat=True)
        )
        added = 0
        for kind, title, body in DEMO_SAMPLES:
            if title in existing:
                continue
            sample = services.sample_create(
                tenant=dietitian.tenant, dietitian=dietitian, body=body, title=title, kind=kind
            )
            added += 1
            self.stdout.write(f"Sample:          {sample.title} ({sample.status})")
        if not added:
            self.stdout.write("Samples:         the demo dietitian has them already")

"""Prices for the models a fresh install uses, so `make run` can reserve quota at once.

`offline` (the built-in provider) costs nothing; `gpt-4o-mini` (the default OPENAI_MODEL)
at OpenAI's list price. Administrators add later prices in the admin; these rows are only
created when the model has no price yet, and removed on reversal only if nothing changed.
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

SEEDED = {
    "offline": (Decimal("0"), Decimal("0")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
}
SINCE = datetime(2024, 1, 1, tzinfo=UTC)


def seed(apps, schema_editor):
    ModelPrice = apps.get_model("billing", "ModelPrice")
    for model, (input_price, output_price) in SEEDED.items():
        if not ModelPrice.objects.filter(model=model).exists():
            ModelPrice.objects.create(
                model=model,
                input_price_per_million=input_price,
                output_price_per_million=output_price,
                valid_from=SINCE,
            )


def unseed(apps, schema_editor):
    ModelPrice = apps.get_model("billing", "ModelPrice")
    ModelPrice.objects.filter(
        model__in=list(SEEDED), valid_from=SINCE, valid_to__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_invoice_number_fits_long_slugs")]

    operations = [migrations.RunPython(seed, unseed)]

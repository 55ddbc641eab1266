"""Prices change over time without rewriting history; each call costs the price valid then."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing import services
from billing.models import ModelPrice, UsageRecord
from billing.selectors import model_price_at, usage_summary
from nutrition_pro.exceptions import InvalidInput
from tests.billing.metering import provider_call

pytestmark = pytest.mark.django_db

MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)


def call(tenant, model, prompt, completion):
    return provider_call(tenant, model, prompt, completion)


def test_a_price_change_mid_month_applies_to_calls_after_it_only(tenant_a):
    with time_machine.travel(MARCH_1, tick=False):
        services.model_price_set(
            model="gpt-x",
            input_price_per_million=Decimal("0.15"),
            output_price_per_million=Decimal("0.60"),
        )
    with time_machine.travel(MARCH_1 + timedelta(days=3), tick=False):
        before = call(tenant_a, "gpt-x", 123_457, 98_765)
    with time_machine.travel(MARCH_1 + timedelta(days=14), tick=False):
        services.model_price_set(
            model="gpt-x",
            input_price_per_million=Decimal("0.25"),
            output_price_per_million=Decimal("1.10"),
        )
    with time_machine.travel(MARCH_1 + timedelta(days=20), tick=False):
        after = call(tenant_a, "gpt-x", 123_457, 98_765)

    # 123457 x 0.15 / 1M + 98765 x 0.60 / 1M = 0.01851855 + 0.059259
    assert before.cost == Decimal("0.07777755")
    # 123457 x 0.25 / 1M + 98765 x 1.10 / 1M = 0.03086425 + 0.1086415
    assert after.cost == Decimal("0.13950575")
    assert (before.input_price_per_million, after.input_price_per_million) == (
        Decimal("0.15"),
        Decimal("0.25"),
    )
    # The earlier row is untouched by the later price.
    assert UsageRecord.objects.get(pk=before.pk).cost == Decimal("0.07777755")
    summary = usage_summary(tenant=tenant_a, period=MARCH_1.date())
    assert summary.cost_used == Decimal("0.21728330")
    assert summary.tokens_used == 2 * (123_457 + 98_765)


def test_a_new_price_closes_the_previous_one(db):
    with time_machine.travel(MARCH_1, tick=False):
        first = services.model_price_set(
            model="gpt-x", input_price_per_million=Decimal(1), output_price_per_million=Decimal(2)
        )
        second = services.model_price_set(
            model="gpt-x",
            input_price_per_million=Decimal(3),
            output_price_per_million=Decimal(4),
            valid_from=MARCH_1 + timedelta(days=10),
        )
    first.refresh_from_db()
    assert first.valid_to == second.valid_from
    assert model_price_at(model="gpt-x", at=MARCH_1 + timedelta(days=9)) == first
    assert model_price_at(model="gpt-x", at=MARCH_1 + timedelta(days=10)) == second


def test_a_price_cannot_be_back_dated_or_negative(db):
    with pytest.raises(InvalidInput):
        services.model_price_set(
            model="gpt-x",
            input_price_per_million=Decimal(1),
            output_price_per_million=Decimal(1),
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
    with pytest.raises(InvalidInput):
        services.model_price_set(
            model="gpt-x", input_price_per_million=Decimal(-1), output_price_per_million=Decimal(1)
        )
    with pytest.raises(InvalidInput):
        services.model_price_set(
            model="gpt-x", input_price_per_million=1.5, output_price_per_million=Decimal(1)
        )
    assert not ModelPrice.objects.filter(model="gpt-x").exists()


def test_a_model_without_its_own_price_uses_the_default_price(tenant_a):
    services.model_price_set(
        model="*", input_price_per_million=Decimal(10), output_price_per_million=Decimal(10)
    )
    record = call(tenant_a, "some-other-model", 1000, 1000)
    assert record.cost == Decimal("0.02")


def test_a_reported_model_name_without_a_price_is_charged_at_the_reserved_models_price(
    tenant_a,
):
    services.model_price_set(
        model="gpt-x", input_price_per_million=Decimal(1), output_price_per_million=Decimal(2)
    )
    generation_id = uuid.uuid4()
    services.quota_reserve(
        tenant=tenant_a,
        api_key=None,
        generation_id=generation_id,
        model="gpt-x",
        prompt_tokens_estimate=10,
        max_output_tokens=10,
    )
    record = services.quota_settle(
        generation_id=generation_id,
        model="gpt-x-2026-01-01",
        prompt_tokens=1_000_000,
        completion_tokens=0,
    )
    assert record.model == "gpt-x-2026-01-01"
    assert record.cost == Decimal(1)


def test_a_fresh_install_prices_the_offline_and_default_openai_models(tenant_a):
    import importlib

    from django.apps import apps

    # The data migration's own function (tests that flush the database remove its rows).
    seeding = importlib.import_module("billing.migrations.0004_seed_default_prices")
    ModelPrice.objects.filter(model__in=list(seeding.SEEDED)).delete()
    seeding.seed(apps, None)
    seeding.seed(apps, None)  # a second run adds nothing
    assert ModelPrice.objects.filter(model__in=list(seeding.SEEDED)).count() == 2

    offline = call(tenant_a, "offline", 1000, 1000)
    assert offline.cost == 0
    default = call(tenant_a, "gpt-4o-mini", 100_000, 100_000)
    assert default.cost == Decimal("0.075")

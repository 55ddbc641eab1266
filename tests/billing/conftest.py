"""Billing fixtures: a priced model, and a way to reserve and settle like the pipeline does."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import services
from billing.models import ModelPrice

MODEL = "test-model"


@pytest.fixture
def price(db):
    """test-model at 1.00 per million input tokens and 2.00 per million output tokens."""
    return ModelPrice.objects.create(
        model=MODEL,
        input_price_per_million=Decimal("1.00"),
        output_price_per_million=Decimal("2.00"),
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def reserve(price):
    """reserve(tenant, prompt=..., output=..., generation_id=None) -> QuotaReservation."""

    def _reserve(tenant, prompt=100, output=400, generation_id=None, api_key=None):
        return services.quota_reserve(
            tenant=tenant,
            api_key=api_key,
            generation_id=generation_id or uuid.uuid4(),
            model=MODEL,
            prompt_tokens_estimate=prompt,
            max_output_tokens=output,
        )

    return _reserve

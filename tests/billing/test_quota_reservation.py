"""Quotas hold the worst case before anything is queued, and cannot be overspent."""

import uuid
from decimal import Decimal

import pytest

from billing import services
from billing.models import QuotaReservation, UsagePeriod, UsageRecord
from billing.selectors import usage_summary
from nutrition_pro.exceptions import Conflict, InvalidInput

from .conftest import MODEL

pytestmark = pytest.mark.django_db


def set_limits(tenant, tokens=10_000, cost="100"):
    tenant.monthly_token_quota = tokens
    tenant.monthly_cost_cap = Decimal(cost)
    tenant.save(update_fields=["monthly_token_quota", "monthly_cost_cap"])


def test_it_holds_the_worst_case_in_tokens_and_cost(tenant_a, reserve):
    reservation = reserve(tenant_a, prompt=1000, output=500)

    assert reservation.tokens == 1500
    # 1000 x 1.00 / 1M + 500 x 2.00 / 1M
    assert reservation.cost == Decimal("0.002")
    summary = usage_summary(tenant=tenant_a)
    assert summary.tokens_reserved == 1500
    assert summary.cost_reserved == Decimal("0.002")
    assert summary.tokens_used == 0
    assert summary.tokens_remaining == tenant_a.monthly_token_quota - 1500


def test_it_refuses_a_request_beyond_the_token_quota_and_holds_nothing(tenant_a, reserve):
    set_limits(tenant_a, tokens=1000)
    reserve(tenant_a, prompt=200, output=600)

    with pytest.raises(services.QuotaExceeded) as refused:
        reserve(tenant_a, prompt=100, output=200)

    assert refused.value.status_code == 429
    assert refused.value.code == "quota_exceeded"
    assert refused.value.details["token_quota"] == 1000
    assert QuotaReservation.objects.count() == 1
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 800


def test_it_refuses_a_request_beyond_the_cost_cap(tenant_a, reserve):
    # 0.01 buys 5,000 output tokens at 2.00 per million.
    set_limits(tenant_a, tokens=10_000_000, cost="0.01")
    reserve(tenant_a, prompt=0, output=5000)

    with pytest.raises(services.QuotaExceeded):
        reserve(tenant_a, prompt=0, output=1)
    assert usage_summary(tenant=tenant_a).cost_remaining == 0


def test_a_request_that_fits_exactly_is_admitted(tenant_a, reserve):
    set_limits(tenant_a, tokens=1000)
    reserve(tenant_a, prompt=500, output=500)
    assert usage_summary(tenant=tenant_a).tokens_remaining == 0


def test_reserving_twice_for_one_generation_holds_it_once(tenant_a, reserve):
    generation_id = uuid.uuid4()
    first = reserve(tenant_a, generation_id=generation_id)
    again = reserve(tenant_a, generation_id=generation_id)

    assert again.pk == first.pk
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 500


def test_another_tenant_cannot_reuse_a_generation_id(tenant_a, tenant_b, reserve):
    generation_id = uuid.uuid4()
    reserve(tenant_a, generation_id=generation_id)
    with pytest.raises(Conflict):
        reserve(tenant_b, generation_id=generation_id)
    assert not UsagePeriod.objects.filter(tenant=tenant_b, tokens_reserved__gt=0).exists()


def test_quotas_are_per_tenant(tenant_a, tenant_b, reserve):
    set_limits(tenant_a, tokens=500)
    reserve(tenant_a)
    with pytest.raises(services.QuotaExceeded):
        reserve(tenant_a)
    reserve(tenant_b)
    assert usage_summary(tenant=tenant_b).tokens_reserved == 500


def test_it_refuses_negative_or_non_integer_token_counts(tenant_a, reserve):
    for prompt, output in [(-1, 10), (10, 1.5), (True, 10), (10, 10**12), ("10", 10)]:
        with pytest.raises(InvalidInput):
            reserve(tenant_a, prompt=prompt, output=output)
    assert not QuotaReservation.objects.exists()


def test_a_model_without_a_price_cannot_be_reserved(tenant_a, price):
    with pytest.raises(services.PriceMissing) as refused:
        services.quota_reserve(
            tenant=tenant_a,
            api_key=None,
            generation_id=uuid.uuid4(),
            model="unpriced-model",
            prompt_tokens_estimate=1,
            max_output_tokens=1,
        )
    assert refused.value.code == "price_missing"
    assert not QuotaReservation.objects.exists()


def test_settling_replaces_the_reservation_by_the_reported_usage(tenant_a, issue_key, reserve):
    key = issue_key(tenant_a).api_key
    reservation = reserve(tenant_a, prompt=1000, output=800, api_key=key)

    record = services.quota_settle(
        generation_id=reservation.generation_id,
        model=MODEL,
        prompt_tokens=937,
        completion_tokens=412,
    )

    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == (937, 412, 1349)
    assert record.tenant == tenant_a
    assert record.api_key == key
    # 937 x 1.00 / 1M + 412 x 2.00 / 1M, exactly
    assert record.cost == Decimal("0.001761")
    summary = usage_summary(tenant=tenant_a)
    assert summary.tokens_used == 1349
    assert summary.tokens_reserved == 0
    assert summary.cost_used == Decimal("0.001761")
    assert summary.cost_reserved == 0
    reservation.refresh_from_db()
    assert reservation.status == QuotaReservation.Status.SETTLED


def test_settling_twice_changes_nothing(tenant_a, reserve):
    reservation = reserve(tenant_a)
    first = services.quota_settle(
        generation_id=reservation.generation_id, model=MODEL, prompt_tokens=10, completion_tokens=5
    )
    again = services.quota_settle(
        generation_id=reservation.generation_id, model=MODEL, prompt_tokens=99, completion_tokens=99
    )

    assert again.pk == first.pk
    assert UsageRecord.objects.count() == 1
    assert usage_summary(tenant=tenant_a).tokens_used == 15


def test_settling_an_unknown_generation_is_a_404(db):
    from nutrition_pro.exceptions import NotFound

    with pytest.raises(NotFound):
        services.quota_settle(
            generation_id=uuid.uuid4(), model=MODEL, prompt_tokens=1, completion_tokens=1
        )
    assert not UsageRecord.objects.exists()


def test_a_failed_call_releases_all_it_reserved_and_is_not_charged(tenant_a, reserve):
    set_limits(tenant_a, tokens=500)
    reservation = reserve(tenant_a)

    services.quota_release(generation_id=reservation.generation_id)
    services.quota_release(generation_id=reservation.generation_id)

    summary = usage_summary(tenant=tenant_a)
    assert (summary.tokens_reserved, summary.cost_reserved, summary.tokens_used) == (0, 0, 0)
    assert not UsageRecord.objects.exists()
    reservation.refresh_from_db()
    assert reservation.status == QuotaReservation.Status.RELEASED
    # The freed quota is usable again.
    reserve(tenant_a)


def test_releasing_after_settling_changes_nothing(tenant_a, reserve):
    reservation = reserve(tenant_a)
    services.quota_settle(
        generation_id=reservation.generation_id, model=MODEL, prompt_tokens=10, completion_tokens=5
    )
    services.quota_release(generation_id=reservation.generation_id)

    summary = usage_summary(tenant=tenant_a)
    assert (summary.tokens_used, summary.tokens_reserved) == (15, 0)


def test_a_call_settled_after_its_release_is_still_recorded(tenant_a, reserve):
    reservation = reserve(tenant_a)
    services.quota_release(generation_id=reservation.generation_id)
    services.quota_settle(
        generation_id=reservation.generation_id, model=MODEL, prompt_tokens=10, completion_tokens=5
    )

    summary = usage_summary(tenant=tenant_a)
    assert (summary.tokens_used, summary.tokens_reserved) == (15, 0)
    assert UsageRecord.objects.count() == 1


def test_a_refused_reservation_rolls_back_with_the_callers_transaction(tenant_a, reserve):
    from django.db import transaction

    set_limits(tenant_a, tokens=600)
    reserve(tenant_a)
    with pytest.raises(services.QuotaExceeded), transaction.atomic():
        reserve(tenant_a)
    # The caller's transaction is still usable, and nothing more is held.
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 500


def test_a_refusal_reaches_the_client_as_a_429_in_the_error_envelope(tenant_a, reserve):
    from nutrition_pro.exceptions import envelope_exception_handler

    set_limits(tenant_a, tokens=100)
    with pytest.raises(services.QuotaExceeded) as refused:
        reserve(tenant_a)

    response = envelope_exception_handler(refused.value, {})
    assert response.status_code == 429
    assert response.data["error"]["code"] == "quota_exceeded"
    assert response.data["error"]["details"]["requested_tokens"] == 500
    assert response.data["error"]["details"]["token_quota"] == 100


def test_a_call_reserved_in_one_month_and_settled_in_the_next_counts_in_the_next(tenant_a, reserve):
    from datetime import UTC, date, datetime

    import time_machine

    with time_machine.travel(datetime(2026, 1, 31, 23, 59, 50, tzinfo=UTC), tick=False):
        reservation = reserve(tenant_a)
    with time_machine.travel(datetime(2026, 2, 1, 0, 0, 5, tzinfo=UTC), tick=False):
        record = services.quota_settle(
            generation_id=reservation.generation_id,
            model=MODEL,
            prompt_tokens=10,
            completion_tokens=5,
        )

    assert record.period == date(2026, 2, 1)
    january = usage_summary(tenant=tenant_a, period=date(2026, 1, 1))
    february = usage_summary(tenant=tenant_a, period=date(2026, 2, 1))
    assert (january.tokens_reserved, january.tokens_used) == (0, 0)
    assert (february.tokens_reserved, february.tokens_used) == (0, 15)


def test_a_caller_that_handles_a_refusal_keeps_a_usable_transaction(tenant_a, reserve):
    from django.db import transaction

    set_limits(tenant_a, tokens=600)
    held = reserve(tenant_a)
    with transaction.atomic():
        refused_id = uuid.uuid4()
        with pytest.raises(services.QuotaExceeded):
            reserve(tenant_a, generation_id=refused_id)
        # Still usable, and the refused request left nothing behind.
        assert not QuotaReservation.objects.filter(generation_id=refused_id).exists()
        assert QuotaReservation.objects.get().pk == held.pk
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 500


def test_a_retried_generation_holds_its_worst_case_again_after_a_release(tenant_a, reserve):
    generation_id = uuid.uuid4()
    reserve(tenant_a, generation_id=generation_id)
    services.quota_release(generation_id=generation_id)

    again = reserve(tenant_a, generation_id=generation_id, prompt=0, output=300)

    assert again.status == QuotaReservation.Status.RESERVED
    assert again.tokens == 300
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 300
    # Reserving once more holds nothing more.
    reserve(tenant_a, generation_id=generation_id, prompt=0, output=300)
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 300


def test_a_retry_is_refused_when_the_quota_cannot_hold_it_again(tenant_a, reserve):
    set_limits(tenant_a, tokens=500)
    generation_id = uuid.uuid4()
    reserve(tenant_a, generation_id=generation_id)
    services.quota_release(generation_id=generation_id)
    reserve(tenant_a)  # someone else takes the freed quota

    with pytest.raises(services.QuotaExceeded):
        reserve(tenant_a, generation_id=generation_id)

    retried = QuotaReservation.objects.get(generation_id=generation_id)
    assert retried.status == QuotaReservation.Status.RELEASED
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 500


def test_a_settled_generation_is_never_held_again(tenant_a, reserve):
    generation_id = uuid.uuid4()
    reserve(tenant_a, generation_id=generation_id)
    services.quota_settle(
        generation_id=generation_id, model=MODEL, prompt_tokens=1, completion_tokens=1
    )
    assert reserve(tenant_a, generation_id=generation_id).status == "settled"
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 0

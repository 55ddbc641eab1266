"""Many requests in flight at once cannot overspend a quota (real threads, real PostgreSQL)."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing import services
from billing.models import QuotaReservation, UsagePeriod

from .conftest import MODEL

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 16


def reserve_all_at_once(tenant, generation_ids, hold_seconds=0.0):
    """Each thread opens its own connection and reserves inside its own transaction, the way
    the API does; a barrier makes them start together."""
    barrier = threading.Barrier(len(generation_ids))

    def attempt(generation_id):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                services.quota_reserve(
                    tenant=tenant,
                    api_key=None,
                    generation_id=generation_id,
                    model=MODEL,
                    prompt_tokens_estimate=200,
                    max_output_tokens=800,
                )
                # The generation row would be written here; hold the lock a little.
                if hold_seconds:
                    threading.Event().wait(hold_seconds)
            return "admitted"
        except services.QuotaExceeded:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(generation_ids)) as pool:
        return list(pool.map(attempt, generation_ids))


def test_sixteen_concurrent_requests_against_a_quota_for_three_admit_three(tenant_a, price):
    tenant_a.monthly_token_quota = 3 * 1000 + 999
    tenant_a.save(update_fields=["monthly_token_quota"])

    outcomes = reserve_all_at_once(tenant_a, [uuid.uuid4() for _ in range(REQUESTS)], 0.01)

    assert outcomes.count("admitted") == 3
    assert outcomes.count("refused") == REQUESTS - 3
    counters = UsagePeriod.objects.get(tenant=tenant_a)
    assert counters.tokens_reserved == 3000
    assert QuotaReservation.objects.filter(tenant=tenant_a).count() == 3


def test_the_cost_cap_holds_under_concurrency_too(tenant_a, price):
    # Each request's worst case costs 0.0018 (200 x 1.00 + 800 x 2.00 per million).
    tenant_a.monthly_cost_cap = Decimal("0.01")
    tenant_a.save(update_fields=["monthly_cost_cap"])

    outcomes = reserve_all_at_once(tenant_a, [uuid.uuid4() for _ in range(REQUESTS)])

    assert outcomes.count("admitted") == 5
    assert UsagePeriod.objects.get(tenant=tenant_a).cost_reserved == Decimal("0.009")


def test_concurrent_retries_of_one_generation_hold_it_once(tenant_a, price):
    generation_id = uuid.uuid4()

    outcomes = reserve_all_at_once(tenant_a, [generation_id] * 8, 0.01)

    assert outcomes == ["admitted"] * 8
    assert QuotaReservation.objects.filter(generation_id=generation_id).count() == 1
    assert UsagePeriod.objects.get(tenant=tenant_a).tokens_reserved == 1000

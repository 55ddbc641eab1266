"""GET /api/v1/usage/: the caller's month, in the provider's reported token counts."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from billing import services
from tests.conftest import client_for

from .conftest import MODEL

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage/"


def settle(tenant, prompt, completion, at, reserve):
    with time_machine.travel(at, tick=False):
        reservation = reserve(tenant, prompt=prompt, output=completion + 100)
        services.quota_settle(
            generation_id=reservation.generation_id,
            model=MODEL,
            prompt_tokens=prompt,
            completion_tokens=completion,
        )


def test_it_shows_the_month_in_the_providers_reported_tokens(api_a, tenant_a, tenant_b, reserve):
    tenant_a.monthly_token_quota = 100_000
    tenant_a.save()
    settle(tenant_a, 1200, 345, datetime(2026, 5, 3, 10, tzinfo=UTC), reserve)
    settle(tenant_a, 800, 55, datetime(2026, 5, 3, 18, tzinfo=UTC), reserve)
    settle(tenant_a, 10, 20, datetime(2026, 5, 9, tzinfo=UTC), reserve)
    settle(tenant_b, 99_999, 1, datetime(2026, 5, 9, tzinfo=UTC), reserve)
    with time_machine.travel(datetime(2026, 5, 10, tzinfo=UTC), tick=False):
        reserve(tenant_a, prompt=500, output=1500)  # in flight
        response = api_a.get(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == "2026-05"
    assert body["tokens_used"] == 1200 + 345 + 800 + 55 + 10 + 20
    assert body["tokens_reserved"] == 2000
    assert body["token_quota"] == 100_000
    assert body["tokens_remaining"] == 100_000 - 2430 - 2000
    # (2010 x 1.00 + 420 x 2.00) / 1M
    assert Decimal(body["cost_used"]) == Decimal("0.00285")
    assert Decimal(body["cost_reserved"]) == Decimal("0.0035")
    assert body["cost_cap"] == "50.00"
    assert body["by_day"] == [
        {
            "day": "2026-05-03",
            "calls": 2,
            "prompt_tokens": 2000,
            "completion_tokens": 400,
            "total_tokens": 2400,
            "cost": "0.002800",
        },
        {
            "day": "2026-05-09",
            "calls": 1,
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "total_tokens": 30,
            "cost": "0.000050",
        },
    ]


def test_it_shows_a_past_month_on_request(api_a, tenant_a, reserve):
    settle(tenant_a, 10, 10, datetime(2026, 4, 30, 23, tzinfo=UTC), reserve)
    with time_machine.travel(datetime(2026, 5, 2, tzinfo=UTC), tick=False):
        assert api_a.get(URL).json()["tokens_used"] == 0
        april = api_a.get(URL, {"period": "2026-04"}).json()
    assert (april["period"], april["tokens_used"]) == ("2026-04", 20)


@pytest.mark.parametrize("period", ["2026-13", "2026-4", "april", "2026-04-01"])
def test_a_bad_period_is_a_400(api_a, period):
    response = api_a.get(URL, {"period": period})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "period" in response.json()["error"]["details"]


def test_it_needs_the_usage_read_scope(tenant_a, issue_key):
    key = issue_key(tenant_a, scopes=["samples:read", "generations:create"])
    response = client_for(key.plaintext).get(URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    usage_only = issue_key(tenant_a, scopes=["usage:read"])
    assert client_for(usage_only.plaintext).get(URL).status_code == 200


def test_it_needs_a_key(anonymous_api):
    assert anonymous_api.get(URL).status_code == 401


def test_it_is_read_only(api_a):
    assert api_a.post(URL, {}, format="json").status_code == 405


def test_a_refused_generation_leaves_the_figures_unchanged(api_a, tenant_a, reserve):
    tenant_a.monthly_token_quota = 1000
    tenant_a.save()
    reserve(tenant_a, prompt=500, output=400)
    before = api_a.get(URL).json()
    with pytest.raises(services.QuotaExceeded):
        reserve(tenant_a, prompt=50, output=51, generation_id=uuid.uuid4())
    assert api_a.get(URL).json() == before

"""Soft alerts at 80% and 100% of the quota: once per tenant, month and threshold."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from billing import services
from billing.models import UsageAlert
from tenants.models import TenantMembership

from .conftest import MODEL

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_a(tenant_a):
    user = get_user_model().objects.create_user("manager-a", "manager@alpha.example", "x" * 16)
    TenantMembership.objects.create(tenant=tenant_a, user=user)
    return user


@pytest.fixture
def limited_a(tenant_a, manager_a, settings):
    settings.ADMINS = [("Ops", "ops@nutrition.example")]
    tenant_a.monthly_token_quota = 1000
    tenant_a.monthly_cost_cap = Decimal(1000)
    tenant_a.save()
    return tenant_a


def use(tenant, reserve, tokens, capture):
    reservation = reserve(tenant, prompt=0, output=tokens)
    with capture(execute=True):
        services.quota_settle(
            generation_id=reservation.generation_id,
            model=MODEL,
            prompt_tokens=0,
            completion_tokens=tokens,
        )


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def test_it_alerts_the_managers_and_administrators_at_80_percent_once(
    limited_a, reserve, django_capture_on_commit_callbacks
):
    for _ in range(7):
        use(limited_a, reserve, 100, django_capture_on_commit_callbacks)
    assert mail.outbox == []

    use(limited_a, reserve, 100, django_capture_on_commit_callbacks)
    assert recipients() == ["manager@alpha.example", "ops@nutrition.example"]
    assert "80%" in mail.outbox[0].subject
    assert "Tokens: 800 of 1000" in mail.outbox[0].body

    use(limited_a, reserve, 50, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_it_alerts_again_when_the_quota_is_reached(
    limited_a, reserve, django_capture_on_commit_callbacks
):
    for _ in range(9):
        use(limited_a, reserve, 100, django_capture_on_commit_callbacks)
    assert not any("reached" in message.subject for message in mail.outbox)

    use(limited_a, reserve, 100, django_capture_on_commit_callbacks)

    reached = [message for message in mail.outbox if "quota reached" in message.subject]
    assert sorted(address for message in reached for address in message.to) == [
        "manager@alpha.example",
        "ops@nutrition.example",
    ]
    assert "refused" in reached[0].body
    assert set(UsageAlert.objects.values_list("threshold", flat=True)) == {80, 100}


def test_it_alerts_when_what_is_left_cannot_hold_another_request_like_the_last(
    limited_a, reserve, django_capture_on_commit_callbacks
):
    # Each request reserves 100 + 200 and uses 50: after 15, 750 of 1000 are used and the
    # 250 left cannot hold the next reservation, so it is refused at 75% of the quota.
    for _ in range(15):
        reservation = reserve(limited_a, prompt=100, output=200)
        with django_capture_on_commit_callbacks(execute=True):
            services.quota_settle(
                generation_id=reservation.generation_id,
                model=MODEL,
                prompt_tokens=30,
                completion_tokens=20,
            )
    with pytest.raises(services.QuotaExceeded):
        reserve(limited_a, prompt=100, output=200)

    assert list(UsageAlert.objects.values_list("threshold", "measure")) == [(100, "tokens")]
    assert any("quota reached" in message.subject for message in mail.outbox)


def test_the_cost_cap_alerts_too(limited_a, reserve, django_capture_on_commit_callbacks):
    limited_a.monthly_token_quota = 10**9
    # 400 output tokens at 2.00 per million cost 0.0008; 10 of them reach 80% of 0.01.
    limited_a.monthly_cost_cap = Decimal("0.01")
    limited_a.save()
    for _ in range(10):
        use(limited_a, reserve, 400, django_capture_on_commit_callbacks)
    assert UsageAlert.objects.get().measure == "cost"
    assert "cost" in mail.outbox[0].body


def test_an_alert_is_not_sent_for_another_tenant(
    limited_a, tenant_b, reserve, django_capture_on_commit_callbacks
):
    tenant_b.monthly_token_quota = 100
    tenant_b.save()
    use(tenant_b, reserve, 100, django_capture_on_commit_callbacks)
    assert "manager@alpha.example" not in recipients()


def test_a_reservation_alone_sends_no_alert(limited_a, reserve, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reserve(limited_a, prompt=0, output=1000, generation_id=uuid.uuid4())
    assert mail.outbox == []

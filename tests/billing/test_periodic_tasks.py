"""Beat runs the monthly invoicing and frees quota held by generations whose task died."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from billing import tasks
from billing.models import Invoice, QuotaReservation
from billing.selectors import usage_summary
from nutrition_pro.celery import app

pytestmark = pytest.mark.django_db


def test_beat_schedules_the_billing_tasks_monthly_and_every_quarter_hour():
    entries = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    monthly = entries["billing.issue_invoices_for_last_month"]
    assert monthly.day_of_month == {1}
    assert entries["billing.release_stale_reservations"] == 900
    app.loader.import_default_modules()
    assert "billing.issue_invoices_for_last_month" in app.tasks
    assert "billing.release_stale_reservations" in app.tasks


def test_the_monthly_task_issues_the_last_closed_month_once(tenant_a, reserve):
    from billing import services

    with time_machine.travel(datetime(2026, 6, 15, tzinfo=UTC), tick=False):
        reservation = reserve(tenant_a)
        services.quota_settle(
            generation_id=reservation.generation_id,
            model="test-model",
            prompt_tokens=1,
            completion_tokens=1,
        )
    with time_machine.travel(datetime(2026, 7, 1, 2, 30, tzinfo=UTC), tick=False):
        first = tasks.issue_invoices_for_last_month.apply().get()
        second = tasks.issue_invoices_for_last_month.apply().get()
    assert first == {"period": "2026-06-01", "issued": 1}
    assert second == {"period": "2026-06-01", "issued": 0}
    assert Invoice.objects.get().period.isoformat() == "2026-06-01"


def test_a_reservation_left_by_a_dead_task_is_released_after_an_hour(tenant_a, reserve):
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)
    with time_machine.travel(now - timedelta(minutes=61), tick=False):
        stale = reserve(tenant_a)
    with time_machine.travel(now - timedelta(minutes=10), tick=False):
        recent = reserve(tenant_a)
    with time_machine.travel(now, tick=False):
        assert tasks.release_stale_reservations.apply().get() == 1
        summary = usage_summary(tenant=tenant_a)
    assert QuotaReservation.objects.get(pk=stale.pk).status == "released"
    assert QuotaReservation.objects.get(pk=recent.pk).status == "reserved"
    assert summary.tokens_reserved == recent.tokens

"""Key anomaly detection (threat T1): a spike or a new source network raises an alert."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from tenants import services
from tenants.keys import parse_key
from tenants.models import KeyAnomalyAlert
from tenants.tasks import detect_key_anomalies
from tests.conftest import client_for

from .helpers import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def detector_settings(settings):
    settings.KEY_ANOMALY_WINDOW_MINUTES = 5
    settings.KEY_ANOMALY_SPIKE_FACTOR = 10
    settings.KEY_ANOMALY_SPIKE_MIN_PER_MINUTE = 5
    settings.KEY_ANOMALY_LEARNING_HOURS = 1
    settings.ADMINS = [("Ops", "ops@example.com")]
    get_user_model().objects.create_superuser("root", "root@example.com", None)
    return settings


@pytest.fixture
def busy_tenant(tenant_a):
    return services.tenant_update(tenant=tenant_a, requests_per_minute=1000)


def _requests(api, count, ip="203.0.113.10"):
    statuses = {api.get("/api/v1/me/", REMOTE_ADDR=ip).status_code for _ in range(count)}
    assert statuses == {200}


def _key_with_quiet_history(tenant, issue_key, time_machine, per_hour=3):
    """A key issued three hours ago and used a few times an hour since, from one network.

    The clock is set to half past the hour first: the baseline counts whole clock hours, and
    at five to the hour the last batch of history would land in the current one."""
    start = timezone.now().replace(minute=30, second=0, microsecond=0)
    time_machine.move_to(start)
    time_machine.move_to(start - timedelta(hours=3))
    issued = issue_key(tenant)
    api = client_for(issued.plaintext)
    for hours_ago in (3, 2, 1):
        time_machine.move_to(start - timedelta(hours=hours_ago, minutes=-5))
        _requests(api, per_hour)
    time_machine.move_to(start)
    return issued, api


def _run_detector() -> int:
    return detect_key_anomalies.apply().get()


def test_a_synthetic_spike_raises_an_alert_and_mails_the_administrators(
    detector_settings, busy_tenant, issue_key, time_machine
):
    issued, api = _key_with_quiet_history(busy_tenant, issue_key, time_machine)
    _requests(api, 40)  # 8 a minute over the window, against a baseline of 0.05

    assert _run_detector() == 1
    alert = KeyAnomalyAlert.objects.get()
    assert (alert.kind, alert.api_key, alert.tenant) == (
        KeyAnomalyAlert.Kind.VOLUME_SPIKE,
        issued.api_key,
        busy_tenant,
    )
    assert alert.details["recent_requests_per_minute"] == 8.0
    assert alert.details["baseline_requests_per_minute"] == 0.05
    assert not alert.key_suspended

    [message] = mail.outbox
    assert set(message.to) == {"ops@example.com", "root@example.com"}
    assert issued.api_key.prefix in message.subject
    assert parse_key(issued.plaintext).secret not in message.body
    assert "still active" in message.body
    # Not suspended: the tenant did not ask for it.
    _requests(api, 1)
    # The same spike is reported once, not every minute.
    assert _run_detector() == 0
    assert KeyAnomalyAlert.objects.count() == 1


def test_the_alert_suspends_the_key_when_the_tenant_asked_for_it(
    detector_settings, busy_tenant, issue_key, time_machine
):
    services.tenant_update(tenant=busy_tenant, auto_suspend_keys_on_anomaly=True)
    issued, api = _key_with_quiet_history(busy_tenant, issue_key, time_machine)
    other_key = client_for(issue_key(busy_tenant).plaintext)
    _requests(api, 40)

    assert _run_detector() == 1
    alert = KeyAnomalyAlert.objects.get()
    assert alert.key_suspended
    issued.api_key.refresh_from_db()
    assert issued.api_key.suspended_at is not None
    error_of(api.get("/api/v1/me/", REMOTE_ADDR="203.0.113.10"), 401, "authentication_failed")
    _requests(other_key, 1)  # only that key
    assert "suspended automatically" in mail.outbox[0].body

    services.api_key_resume(api_key=issued.api_key)
    _requests(api, 1)


def test_traffic_like_the_keys_own_history_raises_nothing(
    detector_settings, busy_tenant, issue_key, time_machine
):
    _issued, api = _key_with_quiet_history(busy_tenant, issue_key, time_machine, per_hour=60)
    _requests(api, 40)  # 8 a minute against a baseline of 1 a minute
    assert _run_detector() == 0
    assert not mail.outbox


def test_a_new_key_has_no_baseline_to_spike_against(detector_settings, busy_tenant, issue_key):
    api = client_for(issue_key(busy_tenant).plaintext)
    _requests(api, 40)
    assert _run_detector() == 0


def test_requests_from_a_new_network_raise_one_alert(
    detector_settings, busy_tenant, issue_key, time_machine
):
    _issued, api = _key_with_quiet_history(busy_tenant, issue_key, time_machine)
    _requests(api, 1, ip="203.0.113.200")  # same /24 as its history: nothing new
    assert _run_detector() == 0

    _requests(api, 2, ip="198.51.100.7")
    _requests(api, 1, ip="2001:db8:1:2::1")
    assert _run_detector() == 2
    networks = set(
        KeyAnomalyAlert.objects.filter(kind=KeyAnomalyAlert.Kind.NEW_NETWORK).values_list(
            "network", flat=True
        )
    )
    assert networks == {"198.51.100.0/24", "2001:db8:1::/48"}
    assert len(mail.outbox) == 2
    _requests(api, 1, ip="198.51.100.8")
    assert _run_detector() == 0  # reported once per network


def test_networks_seen_while_learning_are_the_baseline(detector_settings, busy_tenant, issue_key):
    api = client_for(issue_key(busy_tenant).plaintext)
    _requests(api, 1, ip="203.0.113.10")
    _requests(api, 1, ip="198.51.100.7")
    assert _run_detector() == 0

"""Real gunicorn processes sharing PostgreSQL and Redis: limits and revocations hold across them."""

import time

import pytest
from django_ratelimit.core import _get_window

from tenants import services
from tenants.models import Tenant
from tests.support import gunicorn_server, http_get, live_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _me(base, key, **headers):
    return http_get(f"{base}/api/v1/me/", {"Authorization": f"Bearer {key}", **headers})


def test_rate_limits_hold_across_two_server_processes(issue_key):
    tenant = services.tenant_create(name="Shared Limit", slug="shared", requests_per_minute=6)
    first_key, second_key = issue_key(tenant).plaintext, issue_key(tenant).plaintext
    env = live_env()
    with gunicorn_server(env) as one, gunicorn_server(env) as two:
        _avoid_window_edge(str(tenant.id))
        results = [
            _me(base, key)
            for base, key in [(one, first_key), (two, second_key), (two, first_key)] * 4
        ]
    statuses = [status for status, _headers, _body in results]
    # One shared window: six pass in total, whichever process and key served them.
    assert statuses == [200] * 6 + [429] * 6
    throttled = [(headers, body) for status, headers, body in results if status == 429]
    assert throttled, statuses
    for headers, body in throttled:
        assert int(headers["Retry-After"]) >= 1
        assert b'"rate_limited"' in body


def test_revocation_and_suspension_reach_a_running_process_within_a_second(issue_key):
    tenant = services.tenant_create(name="Revoked Soon", slug="revoked-soon")
    revoked, kept = issue_key(tenant), issue_key(tenant)
    with gunicorn_server(live_env()) as base:
        assert _me(base, revoked.plaintext)[0] == 200  # now cached in the server process
        assert _me(base, kept.plaintext)[0] == 200

        services.api_key_revoke(api_key=revoked.api_key)
        assert _wait_for_status(base, revoked.plaintext, 401)

        services.tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
        assert _wait_for_status(base, kept.plaintext, 403)

        services.tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
        assert _wait_for_status(base, kept.plaintext, 200)


def _avoid_window_edge(value: str, needed: float = 8.0) -> None:
    """Starts the burst in a fresh part of the tenant's fixed window, so one window holds it."""
    left = _get_window(value, 60) - time.time()
    if left < needed:
        time.sleep(left + 0.2)


def _wait_for_status(base, key, expected, bound=5.0) -> bool:
    """Polls until the server answers `expected`; the bound only stops a broken run."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if _me(base, key)[0] == expected:
            return True
        time.sleep(0.05)
    return False

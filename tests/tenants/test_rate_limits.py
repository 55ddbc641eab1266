"""Rate limits per key and per tenant from the plan, and failed authentications per source."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_ratelimit.core import get_usage

from tenants import services
from tenants.keys import generate_key
from tenants.throttling import KEY_GROUP, TENANT_GROUP
from tests.conftest import client_for

from .helpers import counting_redis_round_trips, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_window(time_machine):
    """The clock stands still, so a test's few requests never straddle a window boundary."""
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)


def _limited_tenant(rpm):
    return services.tenant_create(name="Small Plan Co", slug="small", requests_per_minute=rpm)


def test_it_answers_429_with_retry_after_past_the_tenants_limit(issue_key):
    api = client_for(issue_key(_limited_tenant(3)).plaintext)
    assert [api.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/v1/me/")
    error = error_of(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert error["details"] == {"retry_after_seconds": int(response["Retry-After"])}


def test_several_keys_cannot_multiply_the_tenants_limit(issue_key):
    tenant = _limited_tenant(4)
    first, second = (client_for(issue_key(tenant).plaintext) for _ in range(2))
    statuses = [api.get("/api/v1/me/").status_code for api in (first, second) * 3]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_a_key_can_have_a_lower_limit_of_its_own(issue_key):
    tenant = _limited_tenant(10)
    narrow = client_for(issue_key(tenant, requests_per_minute=2).plaintext)
    wide = client_for(issue_key(tenant).plaintext)
    assert [narrow.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert wide.get("/api/v1/me/").status_code == 200


def test_another_tenant_is_not_affected(issue_key, tenant_b):
    limited = client_for(issue_key(_limited_tenant(1)).plaintext)
    other = client_for(issue_key(tenant_b).plaintext)
    assert [limited.get("/api/v1/me/").status_code for _ in range(2)] == [200, 429]
    assert other.get("/api/v1/me/").status_code == 200


def test_the_counters_are_django_ratelimits_own(issue_key):
    """Same windows and cache keys: django-ratelimit's get_usage reads what we counted."""
    tenant = _limited_tenant(7)
    issued = issue_key(tenant)
    api = client_for(issued.plaintext)
    for _ in range(5):
        api.get("/api/v1/me/")
    for group, value in ((KEY_GROUP, issued.api_key.prefix), (TENANT_GROUP, str(tenant.id))):
        usage = get_usage(None, group=group, key=lambda g, r, v=value: v, rate="7/m")
        assert usage["count"] == 5
        assert usage["limit"] == 7
        assert not usage["should_limit"]


def test_an_authenticated_request_costs_one_redis_round_trip(settings, tenant_a, issue_key):
    settings.API_KEY_EPOCH_CHECK_SECONDS = 3600  # leave the once-a-second epoch read out
    api = client_for(issue_key(tenant_a).plaintext)
    api.get("/api/v1/me/")
    with counting_redis_round_trips() as counter:
        for _ in range(10):
            assert api.get("/api/v1/me/").status_code == 200
    assert counter["round_trips"] == 10


def test_failed_authentications_per_source_are_limited(settings, tenant_a, issue_key):
    settings.API_AUTH_FAILURES_PER_MINUTE = 3
    attacker = "203.0.113.66"
    guesses = [generate_key()[0] for _ in range(5)]
    statuses = [
        client_for(key).get("/api/v1/me/", REMOTE_ADDR=attacker).status_code for key in guesses
    ]
    assert statuses == [401, 401, 401, 429, 429]
    # A blocked source is refused before any database read, even with a real key.
    real = issue_key(tenant_a).plaintext
    with CaptureQueriesContext(connection) as queries:
        response = client_for(real).get("/api/v1/me/", REMOTE_ADDR=attacker)
    error_of(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert len(queries) == 0
    # Malformed keys count too, and other sources are unaffected.
    assert client_for("np_nonsense").get("/api/v1/me/", REMOTE_ADDR=attacker).status_code == 429
    assert client_for(real).get("/api/v1/me/", REMOTE_ADDR="198.51.100.1").status_code == 200


def test_a_key_verified_before_the_block_keeps_working(settings, tenant_a, issue_key):
    """The block is on guessing: a key this process already verified is not a guess."""
    settings.API_AUTH_FAILURES_PER_MINUTE = 2
    shared_nat = "203.0.113.80"
    good = client_for(issue_key(tenant_a).plaintext)
    assert good.get("/api/v1/me/", REMOTE_ADDR=shared_nat).status_code == 200
    for _ in range(3):
        client_for(generate_key()[0]).get("/api/v1/me/", REMOTE_ADDR=shared_nat)
    assert good.get("/api/v1/me/", REMOTE_ADDR=shared_nat).status_code == 200


def test_every_api_view_keeps_the_key_and_tenant_limits():
    """A view that set its own throttle_classes without ours would escape the plan's limits."""
    from tenants.throttling import ApiKeyRateThrottle

    from .matrix import api_routes

    escaping = []
    for route, pattern in api_routes().items():
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is not None and ApiKeyRateThrottle not in view_class.throttle_classes:
            escaping.append(route)
    assert escaping == []


def test_without_the_shared_store_it_refuses_with_503_rather_than_serve_unlimited(
    settings, tenant_a, issue_key
):
    from tests.support import free_port

    plaintext = issue_key(tenant_a).plaintext
    # A fault we cannot cause otherwise: Redis goes away (nothing listens on this port).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = client_for(plaintext).get("/api/v1/me/")
    error_of(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
    settings.RATELIMIT_FAIL_OPEN = True  # operators may choose to serve without limits
    assert client_for(plaintext).get("/api/v1/me/").status_code == 200


def test_every_counter_it_writes_expires(tenant_a, issue_key):
    from tenants.throttling import redis_client

    api = client_for(issue_key(tenant_a).plaintext)
    for _ in range(3):
        api.get("/api/v1/me/", REMOTE_ADDR="198.51.100.7")
    client = redis_client()
    keys = [key for key in client.keys("*") if b":rl:" in key or b":tenants:keyuse:" in key]
    assert len(keys) >= 6, keys  # two limits, two usage hashes, networks, last-used flag
    no_expiry = [key for key in keys if client.ttl(key) < 0]
    assert no_expiry == []

"""The shared cast: tenant A (with a manager and a dietitian), tenant B the outsider, staff."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tenants import services as tenant_services
from tenants.models import ALL_SCOPES, Dietitian


def pytest_configure(config):
    # Each xdist worker gets its own Redis database (the URL's index plus the worker number),
    # so flushing one cannot disturb another, nor a second checkout using another base index.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    location = settings.CACHES["default"].get("LOCATION", "")
    if location.startswith("redis://"):
        base, _, index = location.rpartition("/")
        offset = int(worker.removeprefix("gw") or 0)
        worker_location = f"{base}/{int(index or 0) + offset}"
        settings.CACHES["default"]["LOCATION"] = worker_location
        # The broker shares the worker's database; `_fresh_cache` leaves its keys alone.
        settings.CELERY_BROKER_URL = worker_location


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (rate limits, key caches), broker queues kept."""
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def tenant_a(db):
    return tenant_services.tenant_create(name="Alpha Meals", slug="alpha")


@pytest.fixture
def tenant_b(db):
    return tenant_services.tenant_create(name="Beta Plans", slug="beta")


@pytest.fixture
def dietitian_a(tenant_a):
    return Dietitian.objects.create(
        tenant=tenant_a, external_ref="d-a-1", name="Dana Alpha", ai_consent=True
    )


@pytest.fixture
def dietitian_b(tenant_b):
    return Dietitian.objects.create(
        tenant=tenant_b, external_ref="d-b-1", name="Bo Beta", ai_consent=True
    )


@pytest.fixture
def issue_key(db):
    """issue_key(tenant, scopes=None, **kwargs) -> IssuedKey (all scopes by default)."""

    def issue(tenant, scopes=None, **kwargs):
        return tenant_services.api_key_issue(
            tenant=tenant, name=kwargs.pop("name", "test"), scopes=scopes or ALL_SCOPES, **kwargs
        )

    return issue


def client_for(plaintext_key: str | None) -> APIClient:
    client = APIClient()
    if plaintext_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext_key}")
    return client


@pytest.fixture
def api_a(tenant_a, issue_key):
    """An API client holding an all-scopes key of tenant A."""
    return client_for(issue_key(tenant_a).plaintext)


@pytest.fixture
def api_b(tenant_b, issue_key):
    """An API client holding an all-scopes key of tenant B, the outsider."""
    return client_for(issue_key(tenant_b).plaintext)


@pytest.fixture
def anonymous_api():
    return APIClient()


# --- tenants (issue 3) -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_verified_keys():
    """Each test starts with an empty in-process cache of verified API keys (Redis is flushed)."""
    from tenants.keycache import verified_keys
    from tenants.throttling import _ttl_marks

    verified_keys.clear()
    _ttl_marks.clear()
    yield
    verified_keys.clear()


# --- control plane (issue 7): the admin admits only sessions verified by a second factor ---


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's admin client, as a session that passed the second factor."""
    from tests.controlplane.sessions import verified_client

    return verified_client(admin_user)

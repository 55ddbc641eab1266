"""Bearer authentication: who is refused with what, and what a verified key costs."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants import services
from tenants.keys import generate_key
from tenants.models import Tenant
from tests.conftest import client_for

from .helpers import error_of

pytestmark = pytest.mark.django_db


def test_it_answers_me_with_the_keys_tenant_and_limits(tenant_a, issue_key):
    issued = issue_key(tenant_a, scopes=["samples:read"], name="planner web")
    body = client_for(issued.plaintext).get("/api/v1/me/").json()
    assert body["tenant"] == {
        "id": str(tenant_a.id),
        "name": "Alpha Meals",
        "slug": "alpha",
        "status": "active",
    }
    assert body["key"]["prefix"] == issued.api_key.prefix
    assert body["key"]["scopes"] == ["samples:read"]
    assert body["limits"]["requests_per_minute"] == tenant_a.requests_per_minute


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Token np_x", "Bearer \u00e9"],
)
def test_it_rejects_a_malformed_header_with_a_bearer_challenge(anonymous_api, header):
    response = anonymous_api.get("/api/v1/me/", HTTP_AUTHORIZATION=header.encode("utf-8"))
    error_of(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Bearer"


def test_it_rejects_a_bad_checksum_without_a_database_read(tenant_a, issue_key):
    plaintext = issue_key(tenant_a).plaintext
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    with CaptureQueriesContext(connection) as queries:
        response = client_for(tampered).get("/api/v1/me/")
    error_of(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Bearer"
    assert len(queries) == 0


def test_it_rejects_an_unknown_and_a_wrong_secret_key(tenant_a, issue_key):
    error_of(client_for(generate_key()[0]).get("/api/v1/me/"), 401, "authentication_failed")
    issued = issue_key(tenant_a)
    same_prefix, _ = generate_key(prefix=issued.api_key.prefix)
    error_of(client_for(same_prefix).get("/api/v1/me/"), 401, "authentication_failed")
    # The right key still works after the wrong ones, and a wrong secret is refused even
    # once the right key sits in the process cache.
    assert client_for(issued.plaintext).get("/api/v1/me/").status_code == 200
    error_of(client_for(same_prefix).get("/api/v1/me/"), 401, "authentication_failed")


def test_a_verified_key_costs_no_sql_query_in_the_steady_state(tenant_a, issue_key):
    api = client_for(issue_key(tenant_a).plaintext)
    assert api.get("/api/v1/me/").status_code == 200  # verifies, notes last use
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert api.get("/api/v1/me/").status_code == 200
    assert [q["sql"] for q in queries.captured_queries] == []


def test_revocation_takes_effect_at_once_in_this_process(tenant_a, issue_key):
    issued = issue_key(tenant_a)
    api = client_for(issued.plaintext)
    assert api.get("/api/v1/me/").status_code == 200
    services.api_key_revoke(api_key=issued.api_key)
    error = error_of(api.get("/api/v1/me/"), 401, "authentication_failed")
    assert "revoked" in error["message"]


def test_an_expired_key_is_refused_even_while_cached(tenant_a, issue_key, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    issued = issue_key(tenant_a, expires_at=timezone.now() + timedelta(hours=1))
    api = client_for(issued.plaintext)
    assert api.get("/api/v1/me/").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(hours=1, seconds=1))
    error_of(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_a_suspended_key_is_refused_and_can_be_resumed(tenant_a, issue_key):
    issued = issue_key(tenant_a)
    api = client_for(issued.plaintext)
    services.api_key_suspend(api_key=issued.api_key)
    error_of(api.get("/api/v1/me/"), 401, "authentication_failed")
    services.api_key_resume(api_key=issued.api_key)
    assert api.get("/api/v1/me/").status_code == 200


def test_a_suspended_tenants_key_is_refused_with_403(tenant_a, issue_key):
    api = client_for(issue_key(tenant_a).plaintext)
    assert api.get("/api/v1/me/").status_code == 200
    services.tenant_set_status(tenant=tenant_a, status=Tenant.Status.SUSPENDED)
    error = error_of(api.get("/api/v1/me/"), 403, "permission_denied")
    assert "suspended" in error["message"]
    services.tenant_set_status(tenant=tenant_a, status=Tenant.Status.ACTIVE)
    assert api.get("/api/v1/me/").status_code == 200


def test_the_tenant_comes_from_the_key_only(tenant_a, tenant_b, issue_key):
    api = client_for(issue_key(tenant_a).plaintext)
    response = api.get(
        f"/api/v1/me/?tenant={tenant_b.id}&client-uuid={tenant_b.id}",
        HTTP_X_TENANT_ID=str(tenant_b.id),
        HTTP_X_CLIENT_UUID=str(tenant_b.id),
    )
    assert response.json()["tenant"]["id"] == str(tenant_a.id)


def test_last_use_is_written_at_most_once_a_minute(tenant_a, issue_key):
    from django.core.cache import cache

    from tenants.throttling import last_used_flag_key, redis_client

    issued = issue_key(tenant_a)
    api = client_for(issued.plaintext)
    api.get("/api/v1/me/", REMOTE_ADDR="198.51.100.7")
    issued.api_key.refresh_from_db()
    first = issued.api_key.last_used_at
    assert first is not None
    assert issued.api_key.last_used_ip == "198.51.100.7"

    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            api.get("/api/v1/me/", REMOTE_ADDR="198.51.100.8")
    assert len(queries) == 0
    issued.api_key.refresh_from_db()
    assert (issued.api_key.last_used_at, issued.api_key.last_used_ip) == (first, "198.51.100.7")

    # The minute passes: Redis expires the flag (we cannot move Redis's clock, so expire it).
    flag = cache.make_and_validate_key(last_used_flag_key(issued.api_key.pk))
    assert 0 < redis_client().ttl(flag) <= 60
    redis_client().delete(flag)
    api.get("/api/v1/me/", REMOTE_ADDR="198.51.100.9")
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at > first
    assert issued.api_key.last_used_ip == "198.51.100.9"


def test_a_view_without_declared_scopes_is_refused(tenant_a, issue_key):
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    class Forgetful(APIView):
        def get(self, request):  # pragma: no cover - must never run
            raise AssertionError("reached")

    request = APIRequestFactory().get(
        "/x", HTTP_AUTHORIZATION=f"Bearer {issue_key(tenant_a).plaintext}"
    )
    response = Forgetful.as_view()(request)
    assert response.status_code == 403


def test_a_random_uuid_prefix_lookup_is_not_a_500(anonymous_api):
    response = anonymous_api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {uuid.uuid4()}")
    error_of(response, 401, "authentication_failed")

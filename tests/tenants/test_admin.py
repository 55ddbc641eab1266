"""The admin issues, rotates and revokes keys through the services; the hash is never shown."""

import pytest
from django.contrib.auth import get_user_model

from tenants.keys import looks_like_api_key, parse_key
from tenants.models import ApiKey, KeyAnomalyAlert, Tenant
from tests.conftest import client_for
from tests.controlplane.sessions import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    """A superuser's session that passed the second factor (the admin admits no other)."""
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", None)
    verified_client(user, client)
    client.user = user
    return client


def _plaintext_on(page: bytes) -> str:
    import re

    [value] = re.findall(rb'value="(np_[^"]+)"', page)
    return value.decode()


def test_issuing_a_key_shows_the_plaintext_once(admin_client, tenant_a):
    response = admin_client.post(
        "/admin/tenants/apikey/add/",
        {"tenant": tenant_a.pk, "name": "mobile", "scopes": ["samples:read", "usage:read"]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = _plaintext_on(response.content)
    assert looks_like_api_key(plaintext)
    key = ApiKey.objects.get(name="mobile")
    assert (key.tenant, key.scopes, key.created_by) == (
        tenant_a,
        ["samples:read", "usage:read"],
        admin_client.user,
    )
    assert client_for(plaintext).get("/api/v1/me/").status_code == 200

    secret = parse_key(plaintext).secret
    for url in ("/admin/tenants/apikey/", f"/admin/tenants/apikey/{key.pk}/change/"):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert secret.encode() not in page.content
        assert key.secret_hash.encode() not in page.content
        assert key.prefix.encode() in page.content


def test_rotating_from_the_admin_shows_the_new_key_and_keeps_the_old_for_the_grace(
    admin_client, tenant_a, issue_key
):
    old = issue_key(tenant_a)
    response = admin_client.post(
        "/admin/tenants/apikey/",
        {"action": "rotate_key", "_selected_action": [old.api_key.pk]},
    )
    assert response.status_code == 200
    new = _plaintext_on(response.content)
    assert client_for(new).get("/api/v1/me/").status_code == 200
    assert client_for(old.plaintext).get("/api/v1/me/").status_code == 200
    old.api_key.refresh_from_db()
    assert old.api_key.expires_at is not None
    assert ApiKey.objects.get(replaces=old.api_key).created_by == admin_client.user


def test_revoking_from_the_admin_refuses_the_key(admin_client, tenant_a, issue_key):
    issued = issue_key(tenant_a)
    admin_client.post(
        "/admin/tenants/apikey/",
        {"action": "revoke_keys", "_selected_action": [issued.api_key.pk]},
    )
    assert client_for(issued.plaintext).get("/api/v1/me/").status_code == 401


def test_suspending_a_tenant_from_the_admin_answers_403(admin_client, tenant_a, issue_key):
    api = client_for(issue_key(tenant_a).plaintext)
    assert api.get("/api/v1/me/").status_code == 200
    admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "suspend_tenants", "_selected_action": [tenant_a.pk]},
    )
    assert Tenant.objects.get(pk=tenant_a.pk).status == "suspended"
    assert api.get("/api/v1/me/").status_code == 403


def test_editing_a_tenants_limit_in_the_admin_applies_at_once(admin_client, tenant_a, issue_key):
    api = client_for(issue_key(tenant_a).plaintext)
    assert api.get("/api/v1/me/").json()["limits"]["requests_per_minute"] == 60
    page = admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data.update(requests_per_minute=2, plan="")
    response = admin_client.post(f"/admin/tenants/tenant/{tenant_a.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert api.get("/api/v1/me/").json()["limits"]["requests_per_minute"] == 2
    # A new rate starts its own django-ratelimit counter: the request above was the first.
    assert [api.get("/api/v1/me/").status_code for _ in range(2)] == [200, 429]


def test_adding_a_tenant_in_the_admin_goes_through_the_service(admin_client):
    response = admin_client.post(
        "/admin/tenants/tenant/add/",
        {
            "name": "Gamma Greens",
            "slug": "gamma",
            "status": "active",
            "requests_per_minute": 120,
            "monthly_token_quota": 1000,
            "monthly_cost_cap": "10.00",
            "max_queued_generations": 5,
            "log_retention_days": 7,
        },
    )
    assert response.status_code == 302, response.content[:3000]
    tenant = Tenant.objects.get(slug="gamma")
    assert (tenant.name, tenant.requests_per_minute, tenant.log_retention_days) == (
        "Gamma Greens",
        120,
        7,
    )


def test_anomaly_alerts_are_listed_and_acknowledged(admin_client, tenant_a, issue_key):
    issued = issue_key(tenant_a)
    alert = KeyAnomalyAlert.objects.create(
        tenant=tenant_a,
        api_key=issued.api_key,
        kind="new_network",
        network="198.51.100.0/24",
    )
    page = admin_client.get("/admin/tenants/keyanomalyalert/")
    assert b"198.51.100.0/24" in page.content
    admin_client.post(
        "/admin/tenants/keyanomalyalert/",
        {"action": "acknowledge", "_selected_action": [alert.pk]},
    )
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_client.user


def test_tenants_and_keys_cannot_be_deleted_only_suspended_or_revoked(
    admin_client, tenant_a, issue_key
):
    issued = issue_key(tenant_a)
    assert admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/tenants/apikey/{issued.api_key.pk}/delete/").status_code == 403
    assert Tenant.objects.filter(pk=tenant_a.pk).exists()

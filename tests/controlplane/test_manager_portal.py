"""The tenant manager's self-service pages: own tenant only, MFA required, secrets shown once."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tenants.models import ApiKey
from tests.conftest import client_for
from tests.controlplane.conftest import make_user, sign_in


def _portal_routes():
    """Every route under /portal/manage/, as (path template, parameter names)."""
    resolver = get_resolver()
    routes = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                full = prefix + str(pattern.pattern)
                if full.startswith("portal/manage/"):
                    routes.append(full)

    walk(resolver.url_patterns, "")
    return routes


def _secret_on(response) -> str:
    match = re.search(r'id="api-key">(np_[A-Za-z0-9_]+)<', response.content.decode())
    assert match, response.content[:400]
    return match.group(1)


def test_the_manager_issues_a_key_that_works_and_is_shown_once(signed_in_manager, tenant_a):
    web, user, _ = signed_in_manager
    response = web.post(
        "/portal/manage/keys/new/", {"name": "prod", "scopes": ["samples:read", "usage:read"]}
    )
    plaintext = _secret_on(response)
    me = client_for(plaintext).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["tenant"]["id"] == str(tenant_a.id)
    key = ApiKey.objects.get(name="prod")
    assert key.created_by == user
    listing = web.get("/portal/manage/keys/").content.decode()
    detail = web.get(f"/portal/manage/keys/{key.pk}/").content.decode()
    assert key.prefix in listing
    assert plaintext not in listing and plaintext not in detail


def test_a_rotated_key_keeps_working_for_its_grace_period(signed_in_manager, tenant_a, issue_key):
    web, _user, _ = signed_in_manager
    old = issue_key(tenant_a, name="app")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = web.post(f"/portal/manage/keys/{old.api_key.pk}/rotate/", {"grace_hours": "1"})
        new_plaintext = _secret_on(response)
        assert client_for(old.plaintext).get("/api/v1/me/").status_code == 200
        assert client_for(new_plaintext).get("/api/v1/me/").status_code == 200
        traveller.shift(timedelta(hours=1, seconds=1))
        assert client_for(old.plaintext).get("/api/v1/me/").status_code == 401
        assert client_for(new_plaintext).get("/api/v1/me/").status_code == 200


def test_a_revoked_key_stops_at_once(signed_in_manager, tenant_a, issue_key):
    web, _, _ = signed_in_manager
    issued = issue_key(tenant_a)
    assert web.get(f"/portal/manage/keys/{issued.api_key.pk}/revoke/").status_code == 200
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None  # GET only confirms
    web.post(f"/portal/manage/keys/{issued.api_key.pk}/revoke/")
    assert client_for(issued.plaintext).get("/api/v1/me/").status_code == 401


def test_bad_key_input_changes_nothing(signed_in_manager):
    web, _, _ = signed_in_manager
    response = web.post("/portal/manage/keys/new/", {"name": "x", "scopes": ["root:all"]})
    assert response.status_code == 200
    assert b"errors" in response.content
    response = web.post("/portal/manage/keys/new/", {"name": "", "scopes": []})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_the_manager_sees_their_dietitians_only(signed_in_manager, dietitian_a, dietitian_b):
    web, _, _ = signed_in_manager
    page = web.get("/portal/manage/dietitians/").content.decode()
    assert dietitian_a.name in page
    assert dietitian_b.name not in page
    assert web.get(f"/portal/manage/dietitians/{dietitian_a.id}/").status_code == 200


@pytest.fixture
def outsider_ids(tenant_b, dietitian_b, issue_key):
    """Ids of tenant B's objects, by the parameter name the portal routes use."""
    from tests.controlplane.test_manager_billing import _invoice

    return {
        "dietitian_id": str(dietitian_b.id),
        "key_id": str(issue_key(tenant_b).api_key.pk),
        "invoice_id": str(_invoice(tenant_b, "INV-202601-beta").pk),
    }


def test_every_portal_url_with_another_tenants_ids_answers_404(signed_in_manager, outsider_ids):
    web, _, _ = signed_in_manager
    routes = [route for route in _portal_routes() if "<" in route]
    assert len(routes) >= 5
    for route in routes:
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: outsider_ids[m.group(1)], route)
        assert web.get(url).status_code == 404, url
        assert web.post(url, {"grace_hours": "0"}).status_code == 404, url
    key = ApiKey.objects.get(pk=outsider_ids["key_id"])
    assert key.revoked_at is None and key.expires_at is None
    assert not ApiKey.objects.filter(replaces=key).exists()


def test_portal_pages_refuse_a_signed_in_user_who_manages_no_tenant(db):
    user, device = make_user("diet", totp=True)
    client = Client()
    sign_in(client, user, device)
    for route in _portal_routes():
        if "<" not in route:
            assert client.get("/" + route).status_code == 404, route


def test_portal_pages_need_the_second_factor(manager_a):
    user, _ = manager_a
    client = Client()
    client.force_login(user)  # password only
    for route in _portal_routes():
        if "<" not in route:
            response = client.get("/" + route)
            assert response.status_code == 302, route
            assert response.url.startswith("/portal/login/"), route


def test_a_new_manager_must_enrol_before_any_portal_page(tenant_a):
    from tenants.models import TenantMembership

    user, _ = make_user("newmanager", totp=False)
    TenantMembership.objects.create(tenant=tenant_a, user=user)
    client = Client()
    response = client.post(
        "/portal/login/", {"username": "newmanager", "password": "correct horse battery staple 42"}
    )
    assert response.url == "/portal/account/mfa/enrol/"
    assert client.get("/portal/manage/").status_code == 302

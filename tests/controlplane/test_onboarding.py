"""Onboarding in the admin: tenant from a plan, first manager, first key; secrets shown once."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from nutrition_pro import roles
from tenants.models import ApiKey, Plan, Tenant, TenantMembership
from tests.conftest import client_for
from tests.controlplane.conftest import make_user, reauthenticate, sign_in, totp_code


@pytest.fixture
def plan(db):
    return Plan.objects.create(
        code="growth", name="Growth", requests_per_minute=120, monthly_token_quota=5_000_000
    )


def _form(plan, **overrides):
    data = {
        "name": "Gamma Foods",
        "plan": plan.pk,
        "manager_username": "gina",
        "manager_email": "gina@example.test",
        "key_name": "first",
        "scopes": ["samples:read", "samples:write", "generations:create"],
    }
    data.update(overrides)
    return data


def test_onboarding_creates_tenant_manager_and_key_in_one_step(signed_in_admin, plan):
    web, _, device = signed_in_admin
    reauthenticate(web, device)
    response = web.post("/admin/onboarding/", _form(plan))
    assert response.status_code == 200
    html = response.content.decode()
    key = re.search(r'id="api-key">(np_\w+)<', html).group(1)
    password = re.search(r'id="manager-password">([^<]+)<', html).group(1)

    tenant = Tenant.objects.get(slug="gamma-foods")
    assert (tenant.plan, tenant.requests_per_minute) == (plan, 120)
    me = client_for(key).get("/api/v1/me/").json()
    assert me["tenant"]["id"] == str(tenant.id)
    assert sorted(me["key"]["scopes"]) == ["generations:create", "samples:read", "samples:write"]
    manager = TenantMembership.objects.get(tenant=tenant).user
    assert manager.check_password(password)
    assert not manager.is_staff

    # The manager's first sign-in forces enrolment, then lands on their tenant's pages.
    client = Client()
    response = client.post("/portal/login/", {"username": "gina", "password": password})
    assert response.url == "/portal/account/mfa/enrol/"
    client.get("/portal/account/mfa/enrol/")
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=manager)
    client.post("/portal/account/mfa/enrol/", {"code": totp_code(device)})
    assert tenant.name in client.get("/portal/manage/").content.decode()


def test_refused_onboarding_leaves_nothing_behind(signed_in_admin, plan):
    web, _, device = signed_in_admin
    get_user_model().objects.create_user("gina", "x@example.test", "whatever-long-pass")
    reauthenticate(web, device)
    response = web.post("/admin/onboarding/", _form(plan))
    assert response.status_code == 200
    assert b"Already in use" in response.content
    assert not Tenant.objects.filter(slug="gamma-foods").exists()
    assert not ApiKey.objects.exists()


def test_onboarding_needs_the_onboarding_permissions(db, plan):
    user, device = make_user("sam", staff=True, groups=[roles.SUPPORT])
    client = Client()
    sign_in(client, user, device)
    assert client.get("/admin/onboarding/").status_code == 403
    assert client.post("/admin/onboarding/", _form(plan)).status_code == 403
    assert not Tenant.objects.exists()


def test_an_onboarding_manager_may_onboard(db, plan):
    user, device = make_user("olga", staff=True, groups=[roles.ONBOARDING])
    client = Client()
    sign_in(client, user, device)
    assert client.post("/admin/onboarding/", _form(plan)).status_code == 200
    assert Tenant.objects.filter(slug="gamma-foods").exists()

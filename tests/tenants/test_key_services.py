"""Key and tenant services refuse bad input without writing anything."""

from datetime import timedelta

import pytest
from django.utils import timezone

from nutrition_pro.exceptions import InvalidInput
from tenants import services
from tenants.models import ApiKey, Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scopes": []},
        {"scopes": ["samples:read", "root"]},
        {"scopes": "samples:read"},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
        {"requests_per_minute": 0},
    ],
)
def test_issue_refuses_bad_input(tenant_a, kwargs):
    with pytest.raises(InvalidInput):
        services.api_key_issue(tenant=tenant_a, name="x", **kwargs)
    assert ApiKey.objects.count() == 0


def test_rotation_refuses_a_bad_grace_and_a_dead_key(tenant_a, issue_key):
    issued = issue_key(tenant_a)
    for grace in (timedelta(seconds=-1), timedelta(days=31)):
        with pytest.raises(InvalidInput):
            services.api_key_rotate(api_key=issued.api_key, grace=grace)
    services.api_key_revoke(api_key=issued.api_key)
    with pytest.raises(InvalidInput):
        services.api_key_rotate(api_key=issued.api_key)
    assert ApiKey.objects.count() == 1


def test_rotation_carries_scopes_limit_and_lifetime(tenant_a, issue_key):
    issued = issue_key(
        tenant_a,
        scopes=["usage:read"],
        requests_per_minute=5,
        expires_at=timezone.now() + timedelta(days=90),
    )
    successor = services.api_key_rotate(api_key=issued.api_key).api_key
    assert successor.scopes == ["usage:read"]
    assert successor.requests_per_minute == 5
    assert successor.replaces == issued.api_key
    lifetime = successor.expires_at - successor.created_at
    assert timedelta(days=89, hours=23) < lifetime <= timedelta(days=90)


def test_tenant_create_refuses_bad_limits_and_duplicates(tenant_a):
    with pytest.raises(InvalidInput):
        services.tenant_create(name="Dup", slug="alpha")
    with pytest.raises(InvalidInput):
        services.tenant_create(name="Zero", requests_per_minute=0)
    with pytest.raises(InvalidInput):
        services.tenant_set_status(tenant=tenant_a, status="deleted")
    with pytest.raises(InvalidInput):
        services.tenant_update(tenant=tenant_a, id="x")
    assert Tenant.objects.count() == 1

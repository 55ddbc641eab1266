"""The control-plane cast: staff with and without MFA, managers of tenant A and B, role holders."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro import roles
from tenants.models import TenantMembership

PASSWORD = "correct horse battery staple 42"
STAFF_IP = "203.0.113.7"


def totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current step, or the next one if it was just used."""
    device.refresh_from_db()
    current = int((time.time() - device.t0) // device.step) + device.drift
    step = max(current, device.last_t + 1)
    return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"


def make_user(username: str, *, staff=False, superuser=False, groups=(), totp=True):
    User = get_user_model()
    user = User.objects.create_user(
        username=username, email=f"{username}@example.test", password=PASSWORD
    )
    user.is_staff = staff or superuser
    user.is_superuser = superuser
    user.save()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    device = None
    if totp:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user, device


def sign_in(client: Client, user, device, *, next_url=None) -> None:
    """The real two-step sign-in through the pages."""
    data = {"username": user.get_username(), "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/portal/login/", data)
    assert response.status_code == 302, response.content[:500]
    assert response.url.endswith("/portal/login/verify/")
    response = client.post("/portal/login/verify/", {"code": totp_code(device)})
    assert response.status_code == 302, response.content[:500]


def reauthenticate(client: Client, device) -> None:
    response = client.post("/portal/reauth/", {"password": PASSWORD, "code": totp_code(device)})
    assert response.status_code == 302, response.content[:500]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher costs ~0.3 s a check; sign-in behaviour does not depend on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def web():
    """A browser-like client whose requests come from a fixed address."""
    return Client(REMOTE_ADDR=STAFF_IP)


@pytest.fixture
def administrator(db):
    return make_user("ada", staff=True, groups=[roles.ADMINISTRATOR])


@pytest.fixture
def superuser(db):
    return make_user("root", superuser=True)


@pytest.fixture
def manager_a(tenant_a):
    user, device = make_user("manny")
    TenantMembership.objects.create(tenant=tenant_a, user=user)
    return user, device


@pytest.fixture
def manager_b(tenant_b):
    user, device = make_user("bert")
    TenantMembership.objects.create(tenant=tenant_b, user=user)
    return user, device


@pytest.fixture
def signed_in_admin(web, superuser):
    user, device = superuser
    sign_in(web, user, device)
    return web, user, device


@pytest.fixture
def signed_in_manager(web, manager_a):
    user, device = manager_a
    sign_in(web, user, device)
    return web, user, device

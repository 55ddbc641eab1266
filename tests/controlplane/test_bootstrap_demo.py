"""bootstrap_demo: administrator with TOTP, manager, dietitian user and key; secrets once."""

import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP

from nutrition_pro import roles
from tests.conftest import client_for


def _run(*args) -> str:
    out = io.StringIO()
    call_command("bootstrap_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_everyone_and_prints_working_secrets_once(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first = _run()
    admin_password = re.search(r"Admin user:\s+admin / (\S+)", first).group(1)
    secret = re.search(r"secret:\s+([A-Z2-7]+)", first).group(1)
    assert "otpauth://totp/" in first
    manager_password = re.search(r"demo-manager / (\S+)", first).group(1)
    assert re.search(r"demo-dietitian / (\S+)", first)
    key = first.strip().splitlines()[-1]
    assert client_for(key).get("/api/v1/me/").status_code == 200

    admin = get_user_model().objects.get(username="admin")
    assert admin.groups.filter(name=roles.ADMINISTRATOR).exists()
    # The printed secret signs the administrator in to the admin.
    from base64 import b32decode

    client = Client()
    client.post("/portal/login/", {"username": "admin", "password": admin_password})
    totp = TOTP(b32decode(secret))
    response = client.post("/portal/login/verify/", {"code": f"{totp.token():06d}"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    # The manager is sent to enrol a second factor.
    response = Client().post(
        "/portal/login/", {"username": "demo-manager", "password": manager_password}
    )
    assert response.url == "/portal/account/mfa/enrol/"

    second = _run()
    assert admin_password not in second
    assert secret not in second
    assert manager_password not in second
    assert "np_" not in second
    assert get_user_model().objects.count() == 3

"""Production settings refuse development values and pass Django's deployment checks."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.support import ROOT

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "p" * 20 + "Q7s9vX2kLm4Nr8Tz6Yb3Hc5Jd1Fg0Wq" + "x" * 10,
    "API_KEY_PEPPER": "pepper-for-production-settings-test-0123456789",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_check_deploy_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_SECRET_KEY", ""),
        ("DJANGO_SECRET_KEY", "django-insecure-" + "a" * 50),
        ("DJANGO_SECRET_KEY", "dev-only-" + "a" * 50),
        ("DJANGO_SECRET_KEY", "too-short"),
        ("FIELD_ENCRYPTION_KEYS", ""),
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key-but-long-enough-to-pass-length"),
        ("API_KEY_PEPPER", ""),
        ("API_KEY_PEPPER", "dev-only-pepper-value-that-is-long-enough"),
        ("ALLOWED_HOSTS", ""),
    ],
)
def test_production_refuses_to_start_on_missing_or_dev_values(variable, value):
    result = run_manage("check", env={**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_production_redirects_plain_http_and_sends_security_headers():
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "c = Client();"
        "r = c.get('/api/v1/me/', HTTP_HOST='api.example.com');"
        "print(r.status_code, r['Location']);"
        "s = c.get('/healthz', HTTP_HOST='api.example.com', HTTP_X_FORWARDED_PROTO='https');"
        "print(s.status_code);"
        "print(s['Strict-Transport-Security']);"
        "print(s['Content-Security-Policy']);"
        "print(s['X-Content-Type-Options'], s['X-Frame-Options'], s['Referrer-Policy'])"
    )
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "nutrition_pro.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    redirect, healthy, hsts, csp, others = result.stdout.strip().splitlines()
    assert redirect == "301 https://api.example.com/api/v1/me/"
    assert healthy == "200"
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert others == "nosniff DENY same-origin"

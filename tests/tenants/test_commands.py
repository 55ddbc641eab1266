"""The management commands: each prints its one-time output last and refuses bad input clearly."""

import io
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tenants.models import ApiKey, Plan, Tenant
from tests.conftest import client_for
from tests.support import ROOT, live_env

from .helpers import error_of

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_tenant_prints_the_slug_last_and_takes_limits():
    Plan.objects.create(code="pro", name="Pro", requests_per_minute=300, monthly_token_quota=9)
    lines = run("create_tenant", "Green Forks", "--plan", "pro", "--monthly-tokens", "5000")
    assert lines[-1] == "green-forks"
    tenant = Tenant.objects.get(slug="green-forks")
    assert (tenant.requests_per_minute, tenant.monthly_token_quota) == (300, 5000)
    assert run("create_tenant", "X", "--slug", "custom", "--rpm", "7")[-1] == "custom"
    assert Tenant.objects.get(slug="custom").requests_per_minute == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create_tenant", "   "], "needs a name"),
        (["create_tenant", "A", "--plan", "gold"], "No plan 'gold'"),
        (["create_tenant", "A", "--slug", "alpha"], "slug is taken"),
        (["create_tenant", "A", "--rpm", "0"], "at least 1"),
        (["create_tenant", "A", "--rpm", "many"], "not a whole number"),
        (["create_api_key", "nobody"], "No tenant with slug 'nobody'"),
        (["create_api_key", "alpha", "--scopes", "samples:read,admin"], "Unknown scope: admin"),
        (["create_api_key", "alpha", "--scopes", ","], "at least one scope"),
        (["create_api_key", "alpha", "--expires-days", "-3"], "at least 1"),
        (["rotate_api_key", "zzzzzzzzzz"], "No API key with prefix"),
        (["rotate_api_key", "zzzzzzzzzz", "--grace-hours", "-1"], "zero or more"),
        (["revoke_api_key", "zzzzzzzzzz"], "No API key with prefix"),
    ],
)
def test_bad_input_is_a_clear_error_that_changes_nothing(tenant_a, args, message):
    before = (Tenant.objects.count(), ApiKey.objects.count())
    with pytest.raises(CommandError, match=message):
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert (Tenant.objects.count(), ApiKey.objects.count()) == before


def test_create_api_key_prints_a_working_key_last(tenant_a):
    lines = run("create_api_key", "alpha", "--name", "web", "--scopes", "samples:read,usage:read")
    plaintext = lines[-1]
    assert plaintext.startswith("np_")
    key = ApiKey.objects.get(tenant=tenant_a, name="web")
    assert key.scopes == ["samples:read", "usage:read"]
    assert plaintext not in "\n".join(lines[:-1])
    assert client_for(plaintext).get("/api/v1/me/").json()["key"]["prefix"] == key.prefix


def test_create_api_key_with_an_expiry(tenant_a, time_machine):
    plaintext = run("create_api_key", "alpha", "--expires-days", "30")[-1]
    assert client_for(plaintext).get("/api/v1/me/").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=30, minutes=1))
    error_of(client_for(plaintext).get("/api/v1/me/"), 401)


def test_rotate_keeps_the_old_key_until_the_grace_ends_then_401(tenant_a, time_machine):
    old = run("create_api_key", "alpha", "--scopes", "usage:read")[-1]
    prefix = old.split("_")[1]
    new = run("rotate_api_key", prefix, "--grace-hours", "2")[-1]
    assert new.startswith("np_") and new != old
    successor = ApiKey.objects.get(replaces__prefix=prefix)
    assert successor.scopes == ["usage:read"]

    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=59))
    assert client_for(old).get("/api/v1/me/").status_code == 200
    assert client_for(new).get("/api/v1/me/").status_code == 200
    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    error_of(client_for(old).get("/api/v1/me/"), 401, "authentication_failed")
    assert client_for(new).get("/api/v1/me/").status_code == 200

    with pytest.raises(CommandError, match="Only an active key"):
        call_command("rotate_api_key", prefix, stdout=io.StringIO())


def test_revoke_answers_401_at_once(tenant_a):
    plaintext = run("create_api_key", "alpha")[-1]
    assert client_for(plaintext).get("/api/v1/me/").status_code == 200
    lines = run("revoke_api_key", f"np_{plaintext.split('_')[1]}_")
    assert lines[-1].startswith("revoked ")
    error_of(client_for(plaintext).get("/api/v1/me/"), 401, "authentication_failed")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_commands_work_as_real_processes():
    env = live_env()

    def manage(*args) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**env, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    slug = manage("create_tenant", "Process Foods", "--rpm", "30")
    plaintext = manage("create_api_key", slug, "--scopes", "generations:read")
    assert client_for(plaintext).get("/api/v1/me/").json()["tenant"]["slug"] == "process-foods"

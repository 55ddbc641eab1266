"""demo_samples (run by `make run` after bootstrap_demo): the demo dietitian writes samples."""

import io

import pytest
from django.core.management import CommandError, call_command

from content.models import ContentSample
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _run(command: str) -> str:
    out = io.StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def test_the_demo_dietitian_gets_screened_approved_samples_once(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    key = _run("bootstrap_demo").strip().splitlines()[-1]

    printed = _run("demo_samples")
    samples = ContentSample.objects.filter(dietitian__external_ref="demo-dietitian")
    assert samples.count() == 2
    assert set(samples.values_list("status", flat=True)) == {ContentSample.Status.APPROVED}
    assert printed.count("(approved)") == 2

    # The demo key sees them through the API, as a Meal Planner app would.
    response = client_for(key).get("/api/v1/samples/")
    assert response.status_code == 200
    assert {s["title"] for s in response.json()["results"]} == set(
        samples.values_list("title", flat=True)
    )

    assert "already" in _run("demo_samples")
    assert samples.count() == 2


def test_it_asks_for_bootstrap_demo_first():
    with pytest.raises(CommandError, match="bootstrap_demo"):
        _run("demo_samples")

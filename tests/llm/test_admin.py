"""The admin: filters, guard verdicts, content only with the permission, retry of failed ones."""

import pytest
from django.contrib.auth.models import Permission, User

from llm.models import GenerationRequest
from tests.controlplane.sessions import verified_client
from tests.llm.conftest import run_to_end
from tests.llm.fake_openai import fail, ok

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/llm/generationrequest/"


def _staff(client, *codenames):
    user = User.objects.create_user("staffer", password="x" * 16, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    verified_client(user, client)  # the admin admits only sessions past the second factor
    return user


@pytest.fixture
def succeeded(fake_llm, dietitian_a, make_generation):
    fake_llm.then(ok("Secret sauce text that only content viewers may read."))
    return run_to_end(make_generation(dietitian_a, notes="Prefers quick breakfasts."))


def test_a_user_with_the_content_permission_sees_prompt_and_response(client, succeeded):
    _staff(client, "view_generationrequest", "view_generation_content")
    page = client.get(f"{CHANGELIST}{succeeded.pk}/change/").content.decode()

    assert "Secret sauce text" in page
    assert "Prefers quick breakfasts" in page
    assert "&lt;&lt;DATA-" in page or "DATA-" in page  # the prompt's data markers


def test_support_without_the_permission_sees_the_metering_but_no_text(client, succeeded):
    _staff(client, "view_generationrequest")
    page = client.get(f"{CHANGELIST}{succeeded.pk}/change/").content.decode()

    assert "gpt-4o-mini" in page
    assert "Secret sauce text" not in page
    assert "Prefers quick breakfasts" not in page
    assert "CANARY-" not in page


def test_the_list_shows_verdicts_filters_and_no_text(client, fake_llm, succeeded):
    _staff(client, "view_generationrequest", "view_generation_content")
    page = client.get(CHANGELIST, {"status__exact": "succeeded"}).content.decode()

    assert str(succeeded.pk) in page
    assert "Secret sauce text" not in page
    detail = client.get(f"{CHANGELIST}{succeeded.pk}/change/").content.decode()
    assert "nutrition" in detail and "passed" in detail


def test_the_retry_action_requeues_failed_requests_only(
    client, fake_llm, dietitian_a, make_generation, succeeded, django_capture_on_commit_callbacks
):
    fake_llm.then(fail(400))
    failed = run_to_end(make_generation(dietitian_a))
    assert failed.status == "failed"
    _staff(client, "view_generationrequest", "change_generationrequest")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            CHANGELIST,
            {"action": "retry_failed", "_selected_action": [str(failed.pk), str(succeeded.pk)]},
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "queued" and failed.attempts == 0 and failed.error_code == ""
    assert GenerationRequest.objects.get(pk=succeeded.pk).status == "succeeded"
    assert len(callbacks) == 1

    fake_llm.then(ok("Retried and fine."))
    assert run_to_end(failed).status == "succeeded"


def test_a_view_only_user_cannot_retry(client, fake_llm, dietitian_a, make_generation):
    fake_llm.then(fail(400))
    failed = run_to_end(make_generation(dietitian_a))
    _staff(client, "view_generationrequest")

    client.post(CHANGELIST, {"action": "retry_failed", "_selected_action": [str(failed.pk)]})

    assert GenerationRequest.objects.get(pk=failed.pk).status == "failed"

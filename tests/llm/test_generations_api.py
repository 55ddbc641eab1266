"""POST/GET /api/v1/generations/: 202 at once, idempotency, consent, caps, tenant isolation."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from llm.models import GenerationRequest
from nutrition_pro.celery import app as celery_app
from tests.conftest import client_for
from tests.llm.conftest import billing_of, body_for, run_to_end

pytestmark = pytest.mark.django_db
URL = "/api/v1/generations/"


@pytest.fixture
def eager_tasks():
    """Tasks run in-process when sent, as under `make run` (no broker)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_post_answers_202_at_once_and_enqueues_after_commit(
    api_a, dietitian_a, sample_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_a.post(URL, body_for(dietitian_a), format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["output"] is None
    assert body["dietitian"] == str(dietitian_a.pk)
    assert body["sample_ids"] == [str(sample_a.pk)]
    assert response["Location"] == f"/api/v1/generations/{body['id']}/"
    assert len(callbacks) == 1  # the task is sent only once the row is committed
    generation = GenerationRequest.objects.get(pk=body["id"])
    assert generation.api_key.tenant == dietitian_a.tenant
    assert billing_of(generation)["reserved"]


def test_the_offline_model_is_metered_at_a_zero_price_on_a_fresh_database(
    offline_llm, dietitian_a, make_generation
):
    from billing.models import ModelPrice, UsageRecord

    ModelPrice.objects.all().delete()
    generation = run_to_end(make_generation(dietitian_a))

    record = UsageRecord.objects.get(generation_id=generation.pk)
    assert record.cost == 0 and record.completion_tokens > 0


def test_make_run_mode_goes_end_to_end_with_labelled_offline_text(
    offline_llm, eager_tasks, api_a, dietitian_a, sample_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api_a.post(URL, body_for(dietitian_a), format="json").json()
    body = api_a.get(f"{URL}{created['id']}/").json()

    assert body["status"] == "succeeded"
    assert body["offline"] is True
    assert body["provider"] == "offline"
    assert body["output"].startswith("[Offline draft")
    assert "more energy and steady weight" in body["output"]
    assert "Good food should feel like a warm kitchen" in body["output"]  # the dietitian's voice
    assert "Dana Alpha" in body["output"]


def test_the_offline_text_is_deterministic(offline_llm, dietitian_a, sample_a, make_generation):
    first = run_to_end(make_generation(dietitian_a))
    second = run_to_end(make_generation(dietitian_a))
    assert first.response == second.response


def test_a_repeated_idempotency_key_returns_the_original_request(api_a, dietitian_a):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    first = api_a.post(URL, body_for(dietitian_a), format="json", **headers)
    again = api_a.post(URL, body_for(dietitian_a), format="json", **headers)

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert GenerationRequest.objects.count() == 1


def test_the_same_key_with_a_different_body_is_refused(api_a, dietitian_a):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    api_a.post(URL, body_for(dietitian_a), format="json", **headers)
    other = api_a.post(
        URL, body_for(dietitian_a, kind="recipe_description"), format="json", **headers
    )

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert GenerationRequest.objects.count() == 1


def test_idempotency_keys_are_per_tenant(api_a, api_b, dietitian_a, dietitian_b):
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    a = api_a.post(URL, body_for(dietitian_a), format="json", **headers)
    b = api_b.post(URL, body_for(dietitian_b), format="json", **headers)

    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"]


def test_a_dietitian_without_consent_is_refused_with_nothing_queued(
    api_a, dietitian_a, django_capture_on_commit_callbacks
):
    dietitian_a.ai_consent = False
    dietitian_a.save()
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_a.post(URL, body_for(dietitian_a), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    assert GenerationRequest.objects.count() == 0
    assert callbacks == []


def test_another_tenants_dietitian_is_unknown(api_a, dietitian_b):
    response = api_a.post(URL, body_for(dietitian_b), format="json")

    assert response.status_code == 400
    assert "dietitian" in response.json()["error"]["details"]
    assert GenerationRequest.objects.count() == 0


def test_sample_ids_must_be_approved_samples_of_the_dietitian(api_a, dietitian_a, sample_a):
    from content.models import ContentSample

    quarantined = ContentSample.objects.create(
        tenant=dietitian_a.tenant, dietitian=dietitian_a, body="x", status="quarantined"
    )
    ok = api_a.post(URL, body_for(dietitian_a, sample_ids=[str(sample_a.pk)]), format="json")
    refused = api_a.post(
        URL, body_for(dietitian_a, sample_ids=[str(quarantined.pk)]), format="json"
    )

    assert ok.status_code == 202
    assert refused.status_code == 400
    assert "sample_ids" in refused.json()["error"]["details"]
    assert GenerationRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "poem"}, "kind"),
        ({"dietitian": "not-a-uuid"}, "dietitian"),
        ({"inputs": {"language": "english"}}, "inputs"),
        ({"inputs": {"notes": "x" * 1001}}, "inputs"),
        ({"inputs": {"allergies": ["x"] * 21}}, "inputs"),
        ({"inputs": {"colour": "blue"}}, "inputs.colour"),
        ({"inputs": {"daily_calorie_target": 900}}, "inputs"),
        ({"inputs": {"notes": "bell\u0007character"}}, "inputs"),
        ({"inputs": {"goals": ["null\u0000byte"]}}, "inputs"),
        ({"temperature": 2}, "temperature"),
    ],
)
def test_bad_input_is_a_400_in_the_envelope_and_changes_nothing(api_a, dietitian_a, change, field):
    body = {**body_for(dietitian_a), **change}
    response = api_a.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert GenerationRequest.objects.count() == 0


def test_a_malformed_idempotency_key_is_refused(api_a, dietitian_a):
    response = api_a.post(URL, body_for(dietitian_a), format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400


def test_the_tenant_queue_cap_answers_429_and_creates_nothing(api_a, dietitian_a):
    tenant = dietitian_a.tenant
    tenant.max_queued_generations = 2
    tenant.save()
    for _ in range(2):
        assert api_a.post(URL, body_for(dietitian_a), format="json").status_code == 202
    response = api_a.post(URL, body_for(dietitian_a), format="json")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["details"]["reason"] == "queue_full"
    assert response["Retry-After"]
    assert GenerationRequest.objects.count() == 2


def test_an_exhausted_quota_answers_429_and_creates_nothing(
    api_a, dietitian_a, django_capture_on_commit_callbacks
):
    tenant = dietitian_a.tenant
    tenant.monthly_token_quota = 500  # less than one request's worst case
    tenant.save()
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_a.post(URL, body_for(dietitian_a), format="json")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert GenerationRequest.objects.count() == 0
    assert callbacks == []


def test_finished_requests_free_the_queue(offline_llm, api_a, dietitian_a, make_generation):
    tenant = dietitian_a.tenant
    tenant.max_queued_generations = 1
    tenant.save()
    run_to_end(make_generation(dietitian_a))

    assert api_a.post(URL, body_for(dietitian_a), format="json").status_code == 202


def test_a_key_without_the_create_scope_cannot_post(tenant_a, dietitian_a, issue_key):
    reader = client_for(issue_key(tenant_a, scopes=["generations:read"]).plaintext)
    response = reader.post(URL, body_for(dietitian_a), format="json")

    assert response.status_code == 403
    assert GenerationRequest.objects.count() == 0


def test_a_key_without_the_read_scope_cannot_list(tenant_a, issue_key):
    writer = client_for(issue_key(tenant_a, scopes=["generations:create"]).plaintext)
    assert writer.get(URL).status_code == 403


def test_anonymous_callers_get_401(anonymous_api):
    assert anonymous_api.get(URL).status_code == 401
    assert anonymous_api.post(URL, {}, format="json").status_code == 401


def test_another_tenants_request_answers_404(api_a, api_b, dietitian_a):
    created = api_a.post(URL, body_for(dietitian_a), format="json").json()

    assert api_b.get(f"{URL}{created['id']}/").status_code == 404
    assert api_b.get(URL).json()["count"] == 0
    assert api_a.get(f"{URL}{created['id']}/").status_code == 200


def test_the_list_filters_by_status_and_dietitian(offline_llm, api_a, dietitian_a, make_generation):
    run_to_end(make_generation(dietitian_a))
    make_generation(dietitian_a)

    assert api_a.get(URL).json()["count"] == 2
    assert api_a.get(URL, {"status": "succeeded"}).json()["count"] == 1
    assert api_a.get(URL, {"status": "queued"}).json()["count"] == 1
    assert api_a.get(URL, {"dietitian": str(dietitian_a.pk)}).json()["count"] == 2
    assert api_a.get(URL, {"status": "bogus"}).status_code == 400


def test_the_list_costs_two_queries_whatever_its_length(
    offline_llm, api_a, dietitian_a, make_generation
):
    for _ in range(3):
        run_to_end(make_generation(dietitian_a))
    api_a.get(URL)  # warm the key cache and last-used write

    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            assert api_a.get(URL).status_code == 200
        return [q["sql"] for q in captured.captured_queries if "llm_generationrequest" in q["sql"]]

    few = queries_for_list()
    for _ in range(4):
        run_to_end(make_generation(dietitian_a))
    many = queries_for_list()

    assert len(few) == len(many) == 2  # one count, one page
    assert all('"prompt"' not in sql for sql in many)  # prompts are never loaded for a list

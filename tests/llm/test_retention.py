"""Per-tenant retention: old prompts and responses are deleted, metering fields stay (T8)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from llm import tasks
from llm.models import GenerationRequest
from tests.llm.conftest import run_to_end

pytestmark = pytest.mark.django_db


def _finished(make_generation, dietitian, *, days_ago: int):
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        generation = run_to_end(make_generation(dietitian, notes="Prefers quick breakfasts."))
    assert generation.status == GenerationRequest.Status.SUCCEEDED
    return generation


def test_the_purge_deletes_old_text_and_keeps_the_metering_fields(
    fake_llm, dietitian_a, make_generation
):
    tenant = dietitian_a.tenant
    tenant.log_retention_days = 30
    tenant.save()
    old = _finished(make_generation, dietitian_a, days_ago=31)
    recent = _finished(make_generation, dietitian_a, days_ago=29)

    assert tasks.generation_purge_expired_task() == 1

    old = GenerationRequest.objects.get(pk=old.pk)
    assert old.prompt is None and old.response is None and old.notes is None
    assert old.content_purged_at is not None
    assert (old.prompt_tokens, old.completion_tokens) == (120, 60)
    assert old.model == "gpt-4o-mini" and old.status == "succeeded" and old.latency_ms is not None
    recent = GenerationRequest.objects.get(pk=recent.pk)
    assert recent.prompt and recent.response and recent.notes


def test_each_tenant_keeps_text_for_its_own_retention(
    fake_llm, dietitian_a, dietitian_b, make_generation
):
    tenant_a, tenant_b = dietitian_a.tenant, dietitian_b.tenant
    tenant_a.log_retention_days = 7
    tenant_a.save()
    tenant_b.log_retention_days = 90
    tenant_b.save()
    a = _finished(make_generation, dietitian_a, days_ago=10)
    b = _finished(make_generation, dietitian_b, days_ago=10)

    tasks.generation_purge_expired_task()

    assert GenerationRequest.objects.get(pk=a.pk).response is None
    assert GenerationRequest.objects.get(pk=b.pk).response is not None


def test_a_purged_request_reads_without_its_text_and_is_not_purged_twice(
    fake_llm, api_a, dietitian_a, make_generation
):
    old = _finished(make_generation, dietitian_a, days_ago=400)
    assert tasks.generation_purge_expired_task() == 1
    assert tasks.generation_purge_expired_task() == 0

    body = api_a.get(f"/api/v1/generations/{old.pk}/").json()
    assert body["status"] == "succeeded"
    assert body["output"] is None
    assert body["usage"] == {"prompt_tokens": 120, "completion_tokens": 60}


def test_the_purge_runs_periodically_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["llm-purge-expired-content"]
    assert entry["task"] == tasks.generation_purge_expired_task.name
    assert entry["schedule"] > 0

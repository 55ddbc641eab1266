"""A real Celery worker is killed with SIGKILL in the middle of a provider call; another
worker finishes the request, once: one provider answer, one stored text, one settlement."""

import os
import signal
import time
import uuid

import pytest

from llm.models import GenerationRequest
from llm.tasks import generation_run_task
from nutrition_pro.celery import app as celery_app
from tests.llm.conftest import billing_of
from tests.llm.fake_openai import hang, ok
from tests.support import live_env, start_celery_worker, stop_process_group

# Two worker processes start one after the other: generous bounds for a loaded machine.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_task_leaves_the_request_to_another_worker_once(
    fake_llm, dietitian_a, make_generation
):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = live_env(
        LLM_PROVIDER="openai",
        OPENAI_BASE_URL=fake_llm.url,
        OPENAI_API_KEY="sk-test-fake-provider-key-0000",
        OPENAI_MODEL="gpt-4o-mini",
        LLM_TIMEOUT_SECONDS="30",
        LLM_LEASE_SECONDS="3",
        CELERY_VISIBILITY_TIMEOUT="2",
        CELERY_UNACKED_RESTORE_INTERVAL="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        DB_POOL_MAX_SIZE="4",  # the workers' threads share a pool, as in production
    )
    fake_llm.then(hang(60), ok("Finished by the second worker.", prompt_tokens=200))
    generation = make_generation(dietitian_a)
    with celery_app.connection_for_write(env["REDIS_URL"]) as connection:
        generation_run_task.apply_async(
            args=[str(generation.pk)], queue=queue, routing_key=queue, connection=connection
        )

    first = start_celery_worker(queue=queue, name="first", concurrency=4, env=env)
    second = None
    try:
        _wait_for(lambda: fake_llm.completions(), 90, "the first worker to call the provider")
        assert GenerationRequest.objects.get(pk=generation.pk).status == "running"
        os.killpg(first.pid, signal.SIGKILL)  # no warm shutdown, no acknowledgement
        first.wait(timeout=10)

        second = start_celery_worker(queue=queue, name="second", concurrency=4, env=env)
        done = _wait_for(
            lambda: GenerationRequest.objects.filter(
                pk=generation.pk, status__in=["succeeded", "failed", "blocked"]
            ).first(),
            150,
            "the second worker to finish the request",
        )
        time.sleep(1.5)  # any duplicate delivery would act now
    finally:
        fake_llm.release.set()
        stop_process_group(first, timeout=15)
        if second is not None:
            stop_process_group(second, timeout=15)

    done.refresh_from_db()
    assert done.status == "succeeded", (done.error_code, done.error_message)
    assert done.response == "Finished by the second worker."
    assert done.attempts == 2
    assert done.prompt_tokens == 200
    assert len(fake_llm.completions()) == 2  # the hung call, then the one that answered
    assert fake_llm.answered == 1
    assert done.provider_charged
    ledger = billing_of(done)
    assert ledger["settled"] == [(200, 60)]  # one ledger row, at the provider's usage

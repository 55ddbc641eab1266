"""A real Celery worker is killed with SIGKILL in the middle of a provider call; another
worker finishes the request, once: one provider answer, one stored text, one settlement."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from llm.models import GenerationRequest
from llm.tasks import generation_run_task
from nutrition_pro.celery import app as celery_app
from tests.llm.conftest import billing_of
from tests.llm.fake_openai import hang, ok
from tests.support import ROOT, live_env

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


def _start_worker(env: dict, queue: str, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "nutrition_pro",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{name}@%h",
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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

    first = _start_worker(env, queue, "first")
    second = None
    try:
        _wait_for(lambda: fake_llm.completions(), 90, "the first worker to call the provider")
        assert GenerationRequest.objects.get(pk=generation.pk).status == "running"
        os.killpg(first.pid, signal.SIGKILL)  # no warm shutdown, no acknowledgement
        first.wait(timeout=10)

        second = _start_worker(env, queue, "second")
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
        _stop(first)
        if second is not None:
            _stop(second)

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

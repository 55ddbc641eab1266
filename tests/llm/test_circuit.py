"""The circuit breaker and the global cap on provider calls, shared through Redis (T5)."""

import time

import pytest
import time_machine

from llm import circuit
from llm.models import GenerationRequest
from tests.llm.conftest import billing_of, run_once, run_to_end
from tests.llm.fake_openai import fail, ok

pytestmark = pytest.mark.django_db
Status = GenerationRequest.Status


@pytest.fixture
def breaker(settings, fake_llm):
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_CIRCUIT_FAILURE_THRESHOLD = 3
    settings.LLM_CIRCUIT_OPEN_SECONDS = 30
    return settings


def test_the_circuit_opens_after_repeated_failures_and_work_waits_instead_of_failing(
    breaker, fake_llm, dietitian_a, make_generation
):
    from llm import services

    fake_llm.default = fail(500)
    for _ in range(3):
        services.generation_run(generation_id=make_generation(dietitian_a).pk)
    assert circuit.circuit_state() == circuit.OPEN
    calls_before = len(fake_llm.completions())

    waiting = make_generation(dietitian_a)
    outcome = services.generation_run(generation_id=waiting.pk)
    waiting.refresh_from_db()

    assert len(fake_llm.completions()) == calls_before  # nothing sent while open
    assert waiting.status == Status.QUEUED
    assert waiting.error_code == "provider_unavailable"
    assert 20 <= outcome.retry_in <= breaker.LLM_REQUEUE_MAX_SECONDS  # waits for the circuit


def test_the_circuit_state_is_shared_by_every_process(breaker, fake_llm, dietitian_a):
    """The state lives in Redis: a fresh process (here: a fresh cache client) sees it open."""
    from django.core.cache import caches

    for _ in range(3):
        circuit.circuit_record_failure()
    other_process_cache = caches.create_connection("default")
    assert other_process_cache.get(circuit.OPEN_UNTIL) is not None


def test_after_the_open_period_one_probe_closes_the_circuit(
    breaker, fake_llm, dietitian_a, make_generation
):
    for _ in range(3):
        circuit.circuit_record_failure()
    assert circuit.circuit_state() == circuit.OPEN

    with time_machine.travel(time.time() + 31, tick=True):
        assert circuit.circuit_state() == circuit.HALF_OPEN
        fake_llm.then(ok("Provider is back."))
        generation = run_to_end(make_generation(dietitian_a))

    assert generation.status == Status.SUCCEEDED
    assert circuit.circuit_state() == circuit.CLOSED
    assert len(fake_llm.completions()) == 1


def test_a_failed_probe_opens_the_circuit_again(breaker, fake_llm, dietitian_a, make_generation):
    from llm import services

    for _ in range(3):
        circuit.circuit_record_failure()
    with time_machine.travel(time.time() + 31, tick=True):
        fake_llm.then(fail(503))
        services.generation_run(generation_id=make_generation(dietitian_a).pk)
        assert circuit.circuit_state() == circuit.OPEN
    assert len(fake_llm.completions()) == 1


def test_only_one_probe_goes_out_while_half_open(breaker):
    for _ in range(3):
        circuit.circuit_record_failure()
    with time_machine.travel(time.time() + 31, tick=True):
        circuit.circuit_before_call()  # the probe
        with pytest.raises(circuit.CircuitOpen):
            circuit.circuit_before_call()


def test_after_the_last_attempt_an_open_circuit_fails_the_request_and_releases_quota(
    breaker, fake_llm, dietitian_a, make_generation
):
    breaker.LLM_MAX_ATTEMPTS = 3
    for _ in range(3):
        circuit.circuit_record_failure()
    generation = run_to_end(make_generation(dietitian_a))

    assert generation.status == Status.FAILED
    assert generation.error_code == "provider_unavailable"
    assert generation.attempts == 3
    assert fake_llm.completions() == []
    assert billing_of(generation)["released"]


def test_successes_reset_the_failure_count(breaker, fake_llm, dietitian_a, make_generation):
    fake_llm.then(fail(500), fail(500), ok(), fail(500), fail(500))
    for _ in range(5):
        run_to_end(make_generation(dietitian_a), max_deliveries=1)

    assert circuit.circuit_state() == circuit.CLOSED


def test_the_global_cap_holds_work_back_without_calling_the_provider(
    settings, fake_llm, dietitian_a, make_generation
):

    settings.LLM_MAX_CONCURRENT_CALLS = 1
    held = circuit.slot_try_acquire()
    assert held is not None

    generation = make_generation(dietitian_a)
    outcome, generation = run_once(generation)
    assert outcome.retry_in is not None
    assert generation.status == Status.QUEUED
    assert generation.attempts == 0  # waiting for capacity is not an attempt
    assert fake_llm.completions() == []

    circuit.slot_release(held)
    assert run_to_end(generation).status == Status.SUCCEEDED
    assert circuit.slots_in_use() == 0


def test_a_slot_held_by_a_dead_worker_expires(settings):
    settings.LLM_MAX_CONCURRENT_CALLS = 2
    settings.LLM_SLOT_TTL_SECONDS = 60
    now = time.time()
    assert circuit.slot_try_acquire(now=now) is not None
    assert circuit.slot_try_acquire(now=now) is not None
    assert circuit.slot_try_acquire(now=now) is None  # full

    assert circuit.slot_try_acquire(now=now + 61) is not None  # the dead holders expired
    assert circuit.slots_in_use(now=now + 61) == 1


def test_the_cap_is_never_exceeded_under_concurrency(settings):
    from concurrent.futures import ThreadPoolExecutor

    settings.LLM_MAX_CONCURRENT_CALLS = 5
    with ThreadPoolExecutor(max_workers=20) as pool:
        tokens = list(pool.map(lambda _: circuit.slot_try_acquire(), range(40)))
    assert sum(token is not None for token in tokens) == 5

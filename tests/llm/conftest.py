"""Fixtures of the generation pipeline: the fake provider, samples, and a way to run tasks."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.models import ModelPrice
from content.models import ContentSample
from llm import services
from llm.models import GenerationRequest
from llm.offline import OFFLINE_MODEL
from tests.llm.fake_openai import FakeOpenAI


@pytest.fixture(autouse=True)
def _prices(db):
    """The provider's model has a price (since 2020, so tests may travel back in time)."""
    ModelPrice.objects.create(
        model="gpt-4o-mini",
        input_price_per_million=Decimal("0.15"),
        output_price_per_million=Decimal("0.60"),
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    )
    ModelPrice.objects.create(
        model=OFFLINE_MODEL,
        input_price_per_million=Decimal("0"),
        output_price_per_million=Decimal("0"),
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def _fake_server():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(_fake_server, settings):
    """The fake provider, reset, with the project pointed at it through the real SDK."""
    _fake_server.reset()
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = _fake_server.url
    settings.OPENAI_API_KEY = "sk-test-fake-provider-key-0000"
    settings.OPENAI_MODEL = "gpt-4o-mini"
    settings.LLM_TIMEOUT_SECONDS = 2.0
    settings.LLM_RETRY_BASE_DELAY = 0.01
    settings.LLM_REQUEUE_BASE_SECONDS = 0.01
    settings.LLM_SLOT_WAIT_SECONDS = 0.1
    yield _fake_server
    _fake_server.release.set()


@pytest.fixture
def offline_llm(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def sample_a(dietitian_a):
    return ContentSample.objects.create(
        tenant=dietitian_a.tenant,
        dietitian=dietitian_a,
        kind="diet_introduction",
        title="Starting gently",
        body=(
            "Good food should feel like a warm kitchen, not a rulebook. "
            "We begin with breakfast you actually enjoy, then build from there. "
            "Small steps, every day, and you will be surprised where they lead."
        ),
        status=ContentSample.Status.APPROVED,
    )


REQUEST = {
    "kind": "diet_introduction",
    "inputs": {
        "goals": ["more energy", "steady weight"],
        "dietary_preferences": ["vegetarian"],
        "allergies": ["peanuts"],
        "language": "en",
        "length": "short",
    },
}


def body_for(dietitian, **overrides):
    body = {**REQUEST, "dietitian": str(dietitian.pk), **overrides}
    if "inputs" in overrides:
        body["inputs"] = overrides["inputs"]
    return body


@pytest.fixture
def make_generation(issue_key):
    """make_generation(dietitian, notes="", **inputs) -> a queued GenerationRequest."""

    def make(dietitian, *, notes="", kind="diet_introduction", sample_ids=None, **inputs):
        key = issue_key(dietitian.tenant).api_key
        return services.generation_request(
            api_key=key,
            dietitian_id=dietitian.pk,
            kind=kind,
            inputs={**REQUEST["inputs"], **inputs},
            notes=notes,
            sample_ids=sample_ids,
        ).generation

    return make


def run_once(generation: GenerationRequest):
    """One delivery of the task: (its outcome, the row as it left it)."""
    outcome = services.generation_run(generation_id=generation.pk)
    return outcome, GenerationRequest.objects.get(pk=generation.pk)


def run_to_end(generation: GenerationRequest, max_deliveries: int = 10) -> GenerationRequest:
    """Delivers the task as a worker would, again each time it asks to retry (no waiting)."""
    for _ in range(max_deliveries):
        outcome = services.generation_run(generation_id=generation.pk)
        if outcome.retry_in is None:
            break
    return GenerationRequest.objects.get(pk=generation.pk)


def billing_of(generation) -> dict:
    """How billing saw this generation: ledger rows (settlements) and its reservation."""
    from billing.models import QuotaReservation, UsageRecord

    reservation = QuotaReservation.objects.filter(generation_id=generation.pk).first()
    records = UsageRecord.objects.filter(generation_id=generation.pk)
    return {
        "settled": [(r.prompt_tokens, r.completion_tokens) for r in records],
        "released": reservation is not None and reservation.status == "released",
        "reserved": reservation is not None,
    }

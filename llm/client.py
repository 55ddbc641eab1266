"""The one seam to the LLM provider: the only module that imports `openai`.

Every call has an explicit timeout and an output cap. Failures that may pass (429, 5xx,
timeouts, connection errors) are retried with exponential backoff and jitter, honouring
the provider's Retry-After; each one is counted by the shared circuit breaker, and while
the circuit is open no call goes out at all (CircuitOpen). The SDK's own retries are off:
they would hide failures from the breaker and ignore our limits.
"""

import email.utils
import logging
import random
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import openai
from django.conf import settings

from llm import circuit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completion:
    """A provider's answer with the usage it reported."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    provider: str
    calls: int = 1


class ProviderError(Exception):
    """The provider did not answer usefully. `retryable` errors may pass on a later attempt."""

    def __init__(
        self, code: str, message: str, *, retryable: bool, retry_after: float | None = None
    ):
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(f"{code}: {message}")


CircuitOpen = circuit.CircuitOpen


@lru_cache(maxsize=4)
def _sdk_client(base_url: str | None, api_key: str, timeout: float) -> openai.OpenAI:
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)


_sdk_client_lock = threading.Lock()


def sdk_client() -> openai.OpenAI:
    # Under the lock, so the 64 threads of a fresh worker build one client (and one TLS
    # context, tens of milliseconds of CPU each) instead of one each.
    with _sdk_client_lock:
        return _sdk_client(
            settings.OPENAI_BASE_URL,
            settings.OPENAI_API_KEY or "missing-key",
            float(settings.LLM_TIMEOUT_SECONDS),
        )


def _retry_after(headers) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _classify(error: Exception) -> ProviderError:
    if isinstance(error, openai.APITimeoutError):
        return ProviderError(
            "provider_timeout", "The provider did not answer in time.", retryable=True
        )
    if isinstance(error, openai.APIConnectionError):
        return ProviderError(
            "provider_unreachable", "The provider could not be reached.", retryable=True
        )
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retry_after = _retry_after(getattr(error.response, "headers", None))
        if status == 429:
            return ProviderError(
                "provider_rate_limited",
                "The provider is rate limiting us.",
                retryable=True,
                retry_after=retry_after,
            )
        if status >= 500 or status == 408:
            return ProviderError(
                "provider_error",
                f"The provider failed with HTTP {status}.",
                retryable=True,
                retry_after=retry_after,
            )
        return ProviderError(
            "provider_rejected",
            f"The provider refused the request (HTTP {status}).",
            retryable=False,
        )
    return ProviderError(
        "provider_error", f"Unexpected provider error: {type(error).__name__}", retryable=True
    )


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number `attempt + 1`: Retry-After wins, else exponential
    backoff with jitter (half fixed, half random, so waits grow yet never synchronise)."""
    if retry_after is not None:
        return retry_after + random.uniform(0, min(0.1 * retry_after, 1.0))
    ceiling = settings.LLM_RETRY_BASE_DELAY * (2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _with_retries(call, *, what: str):
    """Runs `call()` under the breaker with retries; returns (result, calls made)."""
    attempts = settings.LLM_MAX_RETRIES + 1
    for attempt in range(attempts):
        circuit.circuit_before_call()
        try:
            result = call()
        except openai.OpenAIError as error:
            failure = _classify(error)
        else:
            circuit.circuit_record_success()
            return result, attempt + 1
        if failure.retryable:
            circuit.circuit_record_failure()
        logger.warning(
            "Provider %s failed: %s (try %d of %d)", what, failure.code, attempt + 1, attempts
        )
        if not failure.retryable or attempt == attempts - 1:
            raise failure
        delay = backoff_delay(attempt, failure.retry_after)
        if delay > settings.LLM_RETRY_MAX_DELAY:
            raise failure  # a long Retry-After: hand the wait back to the queue
        time.sleep(delay)
    raise AssertionError("unreachable")


def chat_complete(*, messages: list[dict[str, str]], max_tokens: int | None = None) -> Completion:
    """One chat completion from the configured OpenAI-compatible provider."""
    client = sdk_client()
    model = settings.OPENAI_MODEL
    started = time.monotonic()

    def call():
        return client.chat.completions.create(
            model=model,
            messages=messages,
            max_tokens=max_tokens or settings.LLM_MAX_OUTPUT_TOKENS,
            timeout=settings.LLM_TIMEOUT_SECONDS,
        )

    response, calls = _with_retries(call, what="completion")
    latency_ms = int((time.monotonic() - started) * 1000)
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content or "") if choice is not None else ""
    if not text.strip():
        raise ProviderError(
            "provider_empty_answer", "The provider answered with no text.", retryable=True
        )
    usage = response.usage
    return Completion(
        text=text,
        model=response.model or model,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        latency_ms=latency_ms,
        provider="openai",
        calls=calls,
    )


def moderate(text: str) -> tuple[bool, list[str]]:
    """(flagged, categories) from the provider's moderation endpoint."""
    client = sdk_client()

    def call():
        return client.moderations.create(
            input=text, model=settings.LLM_MODERATION_MODEL, timeout=settings.LLM_TIMEOUT_SECONDS
        )

    response, _ = _with_retries(call, what="moderation")
    flagged, categories = False, set()
    for result in response.results:
        flagged = flagged or bool(result.flagged)
        found = result.categories.model_dump() if result.categories is not None else {}
        categories.update(name for name, hit in found.items() if hit)
    return flagged, sorted(categories)

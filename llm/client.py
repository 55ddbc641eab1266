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


def _post(path: str, body: dict) -> dict:
    """POSTs a JSON body through the SDK and returns the JSON answer as a dict.

    The SDK still does the rest: base URL, key, timeout and its error types (which
    `_classify` reads). What it skips is the typed layer: converting every message through
    its TypedDict annotations and building pydantic models of the answer cost 1.3 ms of a
    worker's CPU per call here, a tenth of a whole generation, for the three fields we read.
    This is the SDK's documented way to make requests it has no typed method for.
    """
    answer = sdk_client().post(
        path, cast_to=dict, body=body, options={"timeout": settings.LLM_TIMEOUT_SECONDS}
    )
    if not isinstance(answer, dict):
        raise _bad_answer()
    return answer


def _bad_answer() -> ProviderError:
    return ProviderError(
        "provider_bad_answer", "The provider's answer was not in the expected form.", retryable=True
    )


def chat_complete(*, messages: list[dict[str, str]], max_tokens: int | None = None) -> Completion:
    """One chat completion from the configured OpenAI-compatible provider."""
    model = settings.OPENAI_MODEL
    body = {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens or settings.LLM_MAX_OUTPUT_TOKENS,
    }
    started = time.monotonic()
    answer, calls = _with_retries(lambda: _post("/chat/completions", body), what="completion")
    latency_ms = int((time.monotonic() - started) * 1000)
    try:
        choices = answer.get("choices") or [{}]
        text = (choices[0].get("message") or {}).get("content") or ""
        usage = answer.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        answered_model = str(answer.get("model") or model)
    except (AttributeError, TypeError, ValueError) as error:
        raise _bad_answer() from error
    if not isinstance(text, str) or not text.strip():
        raise ProviderError(
            "provider_empty_answer", "The provider answered with no text.", retryable=True
        )
    return Completion(
        text=text,
        model=answered_model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_ms=latency_ms,
        provider="openai",
        calls=calls,
    )


def moderate(text: str) -> tuple[bool, list[str]]:
    """(flagged, categories) from the provider's moderation endpoint."""
    body = {"input": text, "model": settings.LLM_MODERATION_MODEL}
    answer, _ = _with_retries(lambda: _post("/moderations", body), what="moderation")
    results = answer.get("results")
    if not isinstance(results, list) or not results:
        # No verdict is not a pass: the guard fails closed and the run is tried again later.
        raise _bad_answer()
    flagged, categories = False, set()
    try:
        for result in results:
            flagged = flagged or bool(result.get("flagged"))
            found = result.get("categories") or {}
            categories.update(name for name, hit in found.items() if hit)
    except AttributeError as error:
        raise _bad_answer() from error
    return flagged, sorted(categories)

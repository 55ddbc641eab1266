"""The provider circuit breaker and the global cap on calls in flight (threat T5).

Both live in the shared cache (Redis in production), so every worker process sees the
same state: when the provider keeps failing, all workers stop calling it for a while, then
let one probe through; and no more than LLM_MAX_CONCURRENT_CALLS calls run at once across
the fleet. Slots expire, so a worker killed mid-call cannot hold one for ever.

Times are wall-clock (`time.time()`), compared in Python, so tests can move the clock.
"""

import threading
import time
import uuid
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache

OPEN_UNTIL = "llm:circuit:open-until"
FAILURES = "llm:circuit:failures"
PROBE = "llm:circuit:probe"

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitOpen(Exception):
    """The provider is considered down; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float):
        self.retry_after = max(retry_after, 0.0)
        super().__init__(f"Provider circuit is open; retry in {self.retry_after:.1f}s.")


def circuit_state(now: float | None = None) -> str:
    until = cache.get(OPEN_UNTIL)
    if until is None:
        return CLOSED
    return OPEN if (now or time.time()) < until else HALF_OPEN


# A process that saw the circuit closed trusts that for up to a second, so the hot path
# reads Redis at most once a second per process; an opening reaches every worker in <= 1 s.
LOCAL_TRUST_SECONDS = 1.0
_local = {"closed_until": 0.0, "last_failure": float("-inf")}
_thread = threading.local()


def circuit_before_call() -> None:
    """Raises CircuitOpen unless a call may go out now (closed, or the half-open probe)."""
    if time.monotonic() < _local["closed_until"]:
        return
    until = cache.get(OPEN_UNTIL)
    if until is None:
        _local["closed_until"] = time.monotonic() + LOCAL_TRUST_SECONDS
        return
    now = time.time()
    if now < until:
        raise CircuitOpen(until - now)
    # Half-open: a single probe at a time finds out whether the provider is back.
    probe_seconds = int(settings.LLM_TIMEOUT_SECONDS) + 5
    if not cache.add(PROBE, now, timeout=probe_seconds):
        raise CircuitOpen(min(probe_seconds, settings.LLM_CIRCUIT_OPEN_SECONDS))
    _thread.probing = True


def circuit_record_success() -> None:
    """Closes the circuit after a probe, and resets the failure count after failures; a
    success with no failure seen lately writes nothing (the common case costs no Redis)."""
    probing = getattr(_thread, "probing", False)
    _thread.probing = False
    recent_failure = time.monotonic() - _local["last_failure"] < settings.LLM_CIRCUIT_WINDOW_SECONDS
    if probing or recent_failure:
        cache.delete_many([FAILURES, OPEN_UNTIL, PROBE])


def circuit_record_failure() -> str:
    """Counts a provider failure; opens the circuit at the threshold (or on a failed probe)."""
    _thread.probing = False
    _local["last_failure"] = time.monotonic()
    _local["closed_until"] = 0.0
    now = time.time()
    until = cache.get(OPEN_UNTIL)
    if until is not None and now >= until:
        _open(now)
        return OPEN
    if until is not None:
        return OPEN
    cache.add(FAILURES, 0, timeout=settings.LLM_CIRCUIT_WINDOW_SECONDS)
    try:
        failures = cache.incr(FAILURES)
    except ValueError:  # expired between add and incr
        cache.add(FAILURES, 1, timeout=settings.LLM_CIRCUIT_WINDOW_SECONDS)
        failures = 1
    if failures >= settings.LLM_CIRCUIT_FAILURE_THRESHOLD:
        _open(now)
        return OPEN
    return CLOSED


def _open(now: float) -> None:
    cache.set(OPEN_UNTIL, now + settings.LLM_CIRCUIT_OPEN_SECONDS, timeout=None)
    cache.delete_many([FAILURES, PROBE])


# --- global concurrency cap -----------------------------------------------------------------

SLOTS_KEY = "np:llm:provider-slots"
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
  return 1
end
return 0
"""


@lru_cache(maxsize=8)
def _redis_for(location: str) -> redis.Redis:
    return redis.Redis.from_url(location, socket_timeout=5, socket_connect_timeout=2)


def _redis() -> redis.Redis | None:
    location = settings.CACHES["default"].get("LOCATION", "")
    if isinstance(location, str) and location.startswith(("redis://", "rediss://", "unix://")):
        return _redis_for(location)
    return None


class _LocalSlots:
    """Fallback without Redis (make run: one process, tasks run in-process)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.slots: dict[str, float] = {}

    def acquire(self, token: str, now: float, ttl: float, limit: int) -> bool:
        with self.lock:
            self.slots = {t: exp for t, exp in self.slots.items() if exp > now}
            if len(self.slots) >= limit:
                return False
            self.slots[token] = now + ttl
            return True

    def release(self, token: str) -> None:
        with self.lock:
            self.slots.pop(token, None)


_local_slots = _LocalSlots()


def slot_try_acquire(now: float | None = None) -> str | None:
    """A slot token if fewer than LLM_MAX_CONCURRENT_CALLS calls are in flight, else None."""
    token = uuid.uuid4().hex
    now = now if now is not None else time.time()
    ttl = settings.LLM_SLOT_TTL_SECONDS
    limit = settings.LLM_MAX_CONCURRENT_CALLS
    client = _redis()
    if client is None:
        return token if _local_slots.acquire(token, now, ttl, limit) else None
    acquired = client.eval(_ACQUIRE, 1, SLOTS_KEY, repr(now), repr(ttl), limit, token)
    return token if acquired == 1 else None


def slot_acquire(wait_seconds: float | None = None) -> str | None:
    """Waits up to `wait_seconds` for a slot (short polls); None if none came free."""
    wait = settings.LLM_SLOT_WAIT_SECONDS if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    delay = 0.01
    while True:
        token = slot_try_acquire()
        if token is not None or time.monotonic() >= deadline:
            return token
        time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 0.2)


def slot_release(token: str | None) -> None:
    if token is None:
        return
    client = _redis()
    if client is None:
        _local_slots.release(token)
    else:
        client.zrem(SLOTS_KEY, token)


def slots_in_use(now: float | None = None) -> int:
    now = now if now is not None else time.time()
    client = _redis()
    if client is None:
        return sum(1 for exp in _local_slots.slots.values() if exp > now)
    return client.zcount(SLOTS_KEY, f"({now}", "+inf")

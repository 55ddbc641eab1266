"""Rate limits per key and per tenant, plus the key's usage counters, in one Redis round trip.

The limits are django-ratelimit's: fixed windows with its per-value jitter, its cache keys and
its counting (add the window's counter, then increment; a request over the limit still counts).
`get_usage` would spend two round trips per limit; on Redis we send the same operations for
both limits, the anomaly counters and the last-used flag in one pipeline instead. A test pins
that django-ratelimit's own `get_usage` reads the very counters this module writes.

Without Redis (`make run` on local memory) the limits go through `get_usage` itself and the
anomaly counters are not kept (anomaly detection needs the shared store and a beat process).
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django_ratelimit import ALL
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    get_usage,
)
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from nutrition_pro.exceptions import ServiceError
from tenants.network import client_ip, rate_limit_address, source_network

logger = logging.getLogger(__name__)

KEY_GROUP = "tenants.api-key"
TENANT_GROUP = "tenants.tenant"
AUTH_FAILURE_GROUP = "tenants.auth-failure"

LAST_USED_INTERVAL_SECONDS = 60
MINUTE_COUNTER_TTL = 2 * 3600
HOUR_COUNTER_TTL = 26 * 3600
NETWORKS_TTL = 45 * 24 * 3600


class LimitsUnavailable(ServiceError):
    """The shared rate-limit store is unreachable: refuse rather than serve without limits."""

    status_code = 503
    code = "service_unavailable"
    default_message = "The service is briefly unavailable; retry shortly."

    def __init__(self):
        super().__init__(headers={"Retry-After": "5"})


def _store_failed(error: Exception) -> bool:
    """Fails closed like django-ratelimit: True lets the request through (RATELIMIT_FAIL_OPEN)."""
    logger.error("rate-limit store unavailable: %s", type(error).__name__)
    if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
        return True
    raise LimitsUnavailable()


@dataclass(frozen=True)
class Limit:
    """One django-ratelimit limit: a group, the value counted (key prefix, tenant id), a rate."""

    group: str
    value: str
    rate: str

    def cache_key(self, window: int) -> str:
        return _make_cache_key(self.group, window, self.rate, self.value, ALL)


@dataclass(frozen=True)
class RequestOutcome:
    limited: bool
    retry_after: int | None
    first_use_this_minute: bool


def key_limits(api_key) -> list[Limit]:
    """The key's own limit and its tenant's, which all of the tenant's keys share."""
    return [
        Limit(KEY_GROUP, api_key.prefix, f"{api_key.effective_requests_per_minute}/m"),
        Limit(TENANT_GROUP, str(api_key.tenant_id), f"{api_key.tenant.requests_per_minute}/m"),
    ]


def minute_usage_key(minute: int) -> str:
    """A hash of key id -> requests in that minute (its fields are also the active keys)."""
    return f"tenants:keyuse:m:{minute}"


def hour_usage_key(hour: int) -> str:
    """A hash of key id -> requests in that hour: the keys' baselines."""
    return f"tenants:keyuse:h:{hour}"


def networks_key(api_key_id: int) -> str:
    """A hash of source network -> when the key was first used from it."""
    return f"tenants:keyuse:nets:{api_key_id}"


def last_used_flag_key(api_key_id: int) -> str:
    return f"tenants:keyuse:noted:{api_key_id}"


_clients: dict[int, object] = {}
# Redis keys this process already gave a TTL this minute: each usage hash gets its EXPIRE
# from every process about once a minute, not from every request (five commands fewer).
_ttl_marks: dict[str, int] = {}


def _needs_ttl(key: str, minute: int) -> bool:
    if _ttl_marks.get(key) == minute:
        return False
    if len(_ttl_marks) > 10_000:
        _ttl_marks.clear()
    _ttl_marks[key] = minute
    return True


def redis_client():
    """The raw client behind Django's Redis cache (same pool), or None on another backend.

    Django builds a new client object for every cache call; building one costs more than the
    round trip it makes, so one client (thread-safe, pool-backed) is kept per backend.
    """
    backend = caches["default"]  # `cache` is a proxy; the backend is what has a client
    if not isinstance(backend, RedisCache):
        return None
    client = _clients.get(id(backend._cache))
    if client is None:
        client = _clients[id(backend._cache)] = backend._cache.get_client(write=True)
    return client


def record_request(*, api_key, ip: str | None) -> RequestOutcome:
    """Counts one authenticated request against its limits and in the key's usage counters."""
    limits = key_limits(api_key)
    client = redis_client()
    if client is None:
        return _record_without_redis(limits, api_key)

    # Our own short keys need none of Django's memcached-compatibility checks: make_key only.
    make_key = cache.make_key
    now = time.time()
    windows = []
    pipe = client.pipeline(transaction=False)
    for limit in limits:
        _count, period = _split_rate(limit.rate)
        window = _get_window(limit.value, period)
        key = make_key(limit.cache_key(window))
        pipe.set(key, 0, ex=period + EXPIRATION_FUDGE, nx=True)
        pipe.incr(key)
        windows.append(window)
    minute = int(now // 60)
    minute_key = make_key(minute_usage_key(minute))
    hour_key = make_key(hour_usage_key(int(now // 3600)))
    pipe.hincrby(minute_key, api_key.pk, 1)
    pipe.hincrby(hour_key, api_key.pk, 1)
    if _needs_ttl(minute_key, minute):
        pipe.expire(minute_key, MINUTE_COUNTER_TTL)
    if _needs_ttl(hour_key, minute):
        pipe.expire(hour_key, HOUR_COUNTER_TTL)
    network = source_network(ip)
    if network is not None:
        nets_key = make_key(networks_key(api_key.pk))
        pipe.hsetnx(nets_key, network, int(now))
        if _needs_ttl(nets_key, minute):
            pipe.expire(nets_key, NETWORKS_TTL)
    pipe.set(
        make_key(last_used_flag_key(api_key.pk)),
        1,
        ex=LAST_USED_INTERVAL_SECONDS,
        nx=True,
    )
    results = pipe.execute()

    retry_after = None
    for index, (limit, window) in enumerate(zip(limits, windows, strict=True)):
        count = results[2 * index + 1]
        allowed, _period = _split_rate(limit.rate)
        if count > allowed:
            wait = max(1, window - int(time.time()))
            retry_after = max(retry_after or 0, wait)
    return RequestOutcome(
        limited=retry_after is not None,
        retry_after=retry_after,
        first_use_this_minute=bool(results[-1]),
    )


def _record_without_redis(limits: list[Limit], api_key) -> RequestOutcome:
    retry_after = None
    for limit in limits:
        usage = get_usage(
            None,
            group=limit.group,
            key=lambda _group, _request, value=limit.value: value,
            rate=limit.rate,
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            retry_after = max(retry_after or 0, max(1, usage["time_left"]))
    first_use = cache.add(last_used_flag_key(api_key.pk), 1, LAST_USED_INTERVAL_SECONDS)
    return RequestOutcome(retry_after is not None, retry_after, bool(first_use))


class ApiKeyRateThrottle(BaseThrottle):
    """DRF throttle (the default for every API view): 429 with Retry-After over either limit.

    It also notes the key's last use (a database write at most once a minute per key).
    """

    def allow_request(self, request, view) -> bool:
        from tenants.services import api_key_record_use

        api_key = request.auth
        if api_key is None:
            return True
        ip = client_ip(request)
        try:
            outcome = record_request(api_key=api_key, ip=ip)
        except RedisError as error:
            return _store_failed(error)
        if outcome.first_use_this_minute:
            api_key_record_use(api_key=api_key, ip=ip)
        self._wait = outcome.retry_after
        return not outcome.limited

    def wait(self):
        return getattr(self, "_wait", None)


# --- failed authentication per source address -------------------------------------------


def _auth_failure_usage(request, *, increment: bool):
    address = rate_limit_address(client_ip(request))
    return get_usage(
        request,
        group=AUTH_FAILURE_GROUP,
        key=lambda _group, _request: address,
        rate=f"{settings.API_AUTH_FAILURES_PER_MINUTE}/m",
        increment=increment,
    )


def auth_failures_block(request) -> int | None:
    """Seconds to wait when this source already failed too often this minute, else None."""
    try:
        usage = _auth_failure_usage(request, increment=False)
    except RedisError as error:
        _store_failed(error)
        return None
    if usage is None:
        return None
    if usage["limit"] == 0 or usage["count"] >= usage["limit"]:
        return max(1, usage["time_left"])
    return None


def auth_failure_record(request) -> int | None:
    """Counts a failed authentication; seconds to wait if that was one too many, else None."""
    try:
        usage = _auth_failure_usage(request, increment=True)
    except RedisError as error:
        _store_failed(error)
        return None
    if usage is not None and usage["should_limit"]:
        return max(1, usage["time_left"])
    return None

"""Rate limits per key and per tenant, plus the key's usage counters, in one Redis round trip.

The limits are django-ratelimit's: fixed windows with its per-value jitter, its cache keys and
its counting (add the window's counter, then increment; a request over the limit still counts).
`get_usage` would spend two round trips per limit; on Redis we send the same operations for
both limits, the anomaly counters and the last-used flag in one pipeline instead. A test pins
that django-ratelimit's own `get_usage` reads the very counters this module writes.

Without Redis (`make run` on local memory) the limits go through `get_usage` itself and the
anomaly counters are not kept (anomaly detection needs the shared store and a beat process).
"""

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
from rest_framework.throttling import BaseThrottle

from tenants.network import client_ip, rate_limit_address, source_network

KEY_GROUP = "tenants.api-key"
TENANT_GROUP = "tenants.tenant"
AUTH_FAILURE_GROUP = "tenants.auth-failure"

LAST_USED_INTERVAL_SECONDS = 60
MINUTE_COUNTER_TTL = 2 * 3600
HOUR_COUNTER_TTL = 26 * 3600
NETWORKS_TTL = 45 * 24 * 3600


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


def minute_counter_key(api_key_id: int, minute: int) -> str:
    return f"tenants:keyuse:m:{api_key_id}:{minute}"


def hour_counter_key(api_key_id: int, hour: int) -> str:
    return f"tenants:keyuse:h:{api_key_id}:{hour}"


def networks_key(api_key_id: int) -> str:
    return f"tenants:keyuse:nets:{api_key_id}"


def active_keys_key(minute: int) -> str:
    """The ids of the keys used in one minute: what the anomaly scan looks at."""
    return f"tenants:keyuse:active:{minute}"


def last_used_flag_key(api_key_id: int) -> str:
    return f"tenants:keyuse:noted:{api_key_id}"


_clients: dict[int, object] = {}


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

    now = time.time()
    windows = []
    pipe = client.pipeline(transaction=False)
    for limit in limits:
        _count, period = _split_rate(limit.rate)
        window = _get_window(limit.value, period)
        key = cache.make_and_validate_key(limit.cache_key(window))
        pipe.set(key, 0, ex=period + EXPIRATION_FUDGE, nx=True)
        pipe.incr(key)
        windows.append(window)
    minute_key = cache.make_and_validate_key(minute_counter_key(api_key.pk, int(now // 60)))
    hour_key = cache.make_and_validate_key(hour_counter_key(api_key.pk, int(now // 3600)))
    pipe.incr(minute_key)
    pipe.expire(minute_key, MINUTE_COUNTER_TTL)
    active_key = cache.make_and_validate_key(active_keys_key(int(now // 60)))
    pipe.sadd(active_key, api_key.pk)
    pipe.expire(active_key, MINUTE_COUNTER_TTL)
    pipe.incr(hour_key)
    pipe.expire(hour_key, HOUR_COUNTER_TTL)
    network = source_network(ip)
    if network is not None:
        nets_key = cache.make_and_validate_key(networks_key(api_key.pk))
        pipe.hsetnx(nets_key, network, int(now))
        pipe.expire(nets_key, NETWORKS_TTL)
    pipe.set(
        cache.make_and_validate_key(last_used_flag_key(api_key.pk)),
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
        outcome = record_request(api_key=api_key, ip=ip)
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
    usage = _auth_failure_usage(request, increment=False)
    if usage is None:
        return None
    if usage["limit"] == 0 or usage["count"] >= usage["limit"]:
        return max(1, usage["time_left"])
    return None


def auth_failure_record(request) -> int | None:
    """Counts a failed authentication; seconds to wait if that was one too many, else None."""
    usage = _auth_failure_usage(request, increment=True)
    if usage is not None and usage["should_limit"]:
        return max(1, usage["time_left"])
    return None

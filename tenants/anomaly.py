"""Key anomaly detection: each key's recent volume against its own baseline, and new networks.

The request path keeps per-key counters in Redis (in the rate-limit pipeline, see
`tenants.throttling`): requests per minute and per hour, and the first time each source
network (/24 IPv4, /48 IPv6) was seen. A periodic task (`tenants.tasks.detect_key_anomalies`)
calls `scan()`, which reads them for every recently used key:

- volume spike: the mean requests per minute over the last `KEY_ANOMALY_WINDOW_MINUTES`
  exceed both `KEY_ANOMALY_SPIKE_MIN_PER_MINUTE` and `KEY_ANOMALY_SPIKE_FACTOR` times the
  key's own mean over the previous 24 hours (only hours since the key was created count; a
  key younger than an hour has no baseline yet). At most one spike alert per key per hour.
- new network: a network first seen after the key's learning period
  (`KEY_ANOMALY_LEARNING_HOURS` from its first recorded request). One alert per key and network.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tenants import services
from tenants.models import ApiKey, KeyAnomalyAlert
from tenants.throttling import (
    active_keys_key,
    hour_counter_key,
    minute_counter_key,
    networks_key,
    redis_client,
)

BASELINE_HOURS = 24
SPIKE_REPEAT_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class KeyUsage:
    recent_per_minute: float
    baseline_per_minute: float | None
    networks: dict[str, int]


def key_usage(api_key: ApiKey, now: float | None = None) -> KeyUsage | None:
    """The key's counters, read in one round trip; None without Redis."""
    client = redis_client()
    if client is None:
        return None
    now = time.time() if now is None else now
    window = settings.KEY_ANOMALY_WINDOW_MINUTES
    this_minute, this_hour = int(now // 60), int(now // 3600)
    created_hour = int(api_key.created_at.timestamp() // 3600)
    baseline_hours = [h for h in range(this_hour - BASELINE_HOURS, this_hour) if h >= created_hour]
    minutes = range(this_minute - window + 1, this_minute + 1)
    keys = [minute_counter_key(api_key.pk, minute) for minute in minutes]
    keys += [hour_counter_key(api_key.pk, h) for h in baseline_hours]
    pipe = client.pipeline(transaction=False)
    pipe.mget([cache.make_and_validate_key(key) for key in keys])
    pipe.hgetall(cache.make_and_validate_key(networks_key(api_key.pk)))
    counts, networks = pipe.execute()
    counts = [int(value or 0) for value in counts]
    recent = sum(counts[:window]) / window
    baseline = sum(counts[window:]) / (len(baseline_hours) * 60) if baseline_hours else None
    return KeyUsage(
        recent_per_minute=recent,
        baseline_per_minute=baseline,
        networks={net.decode(): int(first_seen) for net, first_seen in networks.items()},
    )


def recently_used_key_ids(now: float | None = None) -> set[int]:
    """Ids of the keys that made requests in the last window (from the request counters)."""
    client = redis_client()
    if client is None:
        return set()
    now = time.time() if now is None else now
    this_minute = int(now // 60)
    minutes = range(this_minute - settings.KEY_ANOMALY_WINDOW_MINUTES + 1, this_minute + 1)
    members = client.sunion([cache.make_and_validate_key(active_keys_key(m)) for m in minutes])
    return {int(member) for member in members}


def scan(now: float | None = None) -> list[KeyAnomalyAlert]:
    """Checks every key used in the last window; records (and acts on) what it finds."""
    now = time.time() if now is None else now
    keys = ApiKey.objects.filter(
        pk__in=recently_used_key_ids(now), revoked_at__isnull=True, suspended_at__isnull=True
    ).select_related("tenant")
    alerts = []
    for api_key in keys.order_by("pk"):
        usage = key_usage(api_key, now)
        if usage is None:
            break
        alerts += _check_volume(api_key, usage)
        alerts += _check_networks(api_key, usage, now)
    return alerts


def _check_volume(api_key: ApiKey, usage: KeyUsage) -> list[KeyAnomalyAlert]:
    if usage.baseline_per_minute is None:
        return []
    recent, baseline = usage.recent_per_minute, usage.baseline_per_minute
    if recent < settings.KEY_ANOMALY_SPIKE_MIN_PER_MINUTE:
        return []
    if recent <= settings.KEY_ANOMALY_SPIKE_FACTOR * baseline:
        return []
    recently_alerted = KeyAnomalyAlert.objects.filter(
        api_key=api_key,
        kind=KeyAnomalyAlert.Kind.VOLUME_SPIKE,
        created_at__gte=timezone.now() - SPIKE_REPEAT_AFTER,
    ).exists()
    if recently_alerted:
        return []
    alert = services.key_anomaly_alert_record(
        api_key=api_key,
        kind=KeyAnomalyAlert.Kind.VOLUME_SPIKE,
        details={
            "recent_requests_per_minute": round(recent, 2),
            "baseline_requests_per_minute": round(baseline, 3),
            "window_minutes": settings.KEY_ANOMALY_WINDOW_MINUTES,
        },
    )
    return [alert] if alert else []


def _check_networks(api_key: ApiKey, usage: KeyUsage, now: float) -> list[KeyAnomalyAlert]:
    if len(usage.networks) < 2:
        return []
    learned_until = min(usage.networks.values()) + settings.KEY_ANOMALY_LEARNING_HOURS * 3600
    alerts = []
    for network, first_seen in sorted(usage.networks.items(), key=lambda item: item[1]):
        if first_seen < learned_until or first_seen < now - 86400:
            continue  # part of the baseline, or old news already handled
        alert = services.key_anomaly_alert_record(
            api_key=api_key,
            kind=KeyAnomalyAlert.Kind.NEW_NETWORK,
            network=network,
            details={
                "network": network,
                "first_seen": datetime.fromtimestamp(first_seen, tz=UTC).isoformat(),
                "known_networks": len(usage.networks) - 1,
            },
        )
        if alert:
            alerts.append(alert)
    return alerts

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
from tenants.throttling import hour_usage_key, minute_usage_key, networks_key, redis_client

BASELINE_HOURS = 24
SPIKE_REPEAT_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class KeyUsage:
    recent_per_minute: float
    baseline_per_minute: float | None
    networks: dict[str, int]


@dataclass(frozen=True)
class UsageSnapshot:
    """Requests per key in each recent minute and each baseline hour, read in one round trip."""

    now: float
    recent_minutes: list[dict[int, int]]
    hours: dict[int, dict[int, int]]

    def recently_used_key_ids(self) -> set[int]:
        return {key_id for minute in self.recent_minutes for key_id in minute}

    def usage_of(self, api_key: ApiKey, networks: dict[str, int]) -> KeyUsage:
        window = len(self.recent_minutes)
        recent = sum(minute.get(api_key.pk, 0) for minute in self.recent_minutes) / window
        created_hour = int(api_key.created_at.timestamp() // 3600)
        baseline_hours = [hour for hour in self.hours if hour >= created_hour]
        baseline = None
        if baseline_hours:
            total = sum(self.hours[hour].get(api_key.pk, 0) for hour in baseline_hours)
            baseline = total / (len(baseline_hours) * 60)
        return KeyUsage(recent, baseline, networks)


def _as_counts(raw: dict) -> dict[int, int]:
    return {int(key_id): int(count) for key_id, count in raw.items()}


def usage_snapshot(now: float | None = None) -> UsageSnapshot | None:
    """The usage hashes of the last window and of the previous 24 hours; None without Redis."""
    client = redis_client()
    if client is None:
        return None
    now = time.time() if now is None else now
    this_minute, this_hour = int(now // 60), int(now // 3600)
    minutes = range(this_minute - settings.KEY_ANOMALY_WINDOW_MINUTES + 1, this_minute + 1)
    hours = range(this_hour - BASELINE_HOURS, this_hour)
    pipe = client.pipeline(transaction=False)
    for minute in minutes:
        pipe.hgetall(cache.make_key(minute_usage_key(minute)))
    for hour in hours:
        pipe.hgetall(cache.make_key(hour_usage_key(hour)))
    results = pipe.execute()
    return UsageSnapshot(
        now=now,
        recent_minutes=[_as_counts(raw) for raw in results[: len(minutes)]],
        hours={
            hour: _as_counts(raw) for hour, raw in zip(hours, results[len(minutes) :], strict=True)
        },
    )


def _networks(api_keys: list[ApiKey]) -> list[dict[str, int]]:
    pipe = redis_client().pipeline(transaction=False)
    for api_key in api_keys:
        pipe.hgetall(cache.make_key(networks_key(api_key.pk)))
    return [
        {network.decode(): int(first_seen) for network, first_seen in raw.items()}
        for raw in pipe.execute()
    ]


def scan(now: float | None = None) -> list[KeyAnomalyAlert]:
    """Checks every key used in the last window; records (and acts on) what it finds."""
    snapshot = usage_snapshot(now)
    if snapshot is None:
        return []
    api_keys = list(
        ApiKey.objects.filter(
            pk__in=snapshot.recently_used_key_ids(),
            revoked_at__isnull=True,
            suspended_at__isnull=True,
        )
        .select_related("tenant")
        .order_by("pk")
    )
    alerts = []
    for api_key, networks in zip(api_keys, _networks(api_keys), strict=True):
        usage = snapshot.usage_of(api_key, networks)
        alerts += _check_volume(api_key, usage)
        alerts += _check_networks(api_key, usage, snapshot.now)
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

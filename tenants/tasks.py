"""Periodic work of the tenants app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from tenants import anomaly


@shared_task(name="tenants.detect_key_anomalies", ignore_result=True)
def detect_key_anomalies() -> int:
    """Compares each recently used key with its own history; returns the alerts raised."""
    return len(anomaly.scan())

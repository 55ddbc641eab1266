"""Periodic billing work (scheduled in settings.CELERY_BEAT_SCHEDULE); each calls a service."""

from celery import shared_task

from billing import services


@shared_task(name="billing.issue_invoices_for_last_month")
def issue_invoices_for_last_month() -> dict:
    """Monthly: issues the last closed month's invoices (a second run issues nothing)."""
    result = services.invoices_issue(period=services.last_closed_period())
    return {"period": result.period.isoformat(), "issued": result.issued}


@shared_task(name="billing.release_stale_reservations")
def release_stale_reservations() -> int:
    """Frees quota held by generations whose task died without settling or releasing."""
    return services.quota_release_stale()

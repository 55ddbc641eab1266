"""Periodic control-plane housekeeping."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from nutrition_pro.models import SignInLockout

LOCKOUT_ROW_RETENTION = timedelta(days=1)


@shared_task(name="nutrition_pro.purge_signin_lockouts", ignore_result=True)
def purge_signin_lockouts() -> int:
    """Drops failure counters of names that failed long ago and are not locked.

    Every name tried gets a row (so a lock reveals nothing); this keeps guessed names from
    piling up. The audit log keeps the history of failures.
    """
    cutoff = timezone.now() - LOCKOUT_ROW_RETENTION
    deleted, _ = (
        SignInLockout.objects.filter(Q(last_failure_at__lt=cutoff) | Q(last_failure_at=None))
        .exclude(locked_until__gt=timezone.now())
        .delete()
    )
    return deleted

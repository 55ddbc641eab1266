"""Celery tasks of the pipeline: each loads its row through a service, nothing more."""

import logging

from celery import shared_task
from django.db import connection

from llm import services

logger = logging.getLogger(__name__)


def _close_db_connection() -> None:
    # Dozens of threads per worker: give the connection back (to the pool, when configured)
    # rather than keep one open per idle thread.
    if not connection.in_atomic_block:
        connection.close()


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def generation_run_task(self, generation_id: str) -> None:
    """Runs one generation; the service says when to try again (provider down, lease held)."""
    try:
        outcome = services.generation_run(generation_id=generation_id)
    except Exception as error:
        # Database or broker trouble mid-run: the row keeps its lease and attempt count, so
        # a later delivery resumes it (or fails it once its attempts are spent).
        logger.exception("Generation %s: run interrupted", generation_id)
        delay = services.requeue_delay(self.request.retries + 1)
        raise self.retry(countdown=delay, exc=error) from error
    finally:
        _close_db_connection()
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(ignore_result=True)
def generation_purge_expired_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): drops stored prompts/responses past retention."""
    return services.generation_purge_expired()


@shared_task(ignore_result=True)
def generation_requeue_stale_task() -> int:
    """Periodic: sends requests whose task message was lost to the queue again."""
    return services.generation_requeue_stale()

"""Celery tasks of the pipeline: each loads its row through a service, nothing more."""

from celery import shared_task

from llm import services


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def generation_run_task(self, generation_id: str) -> None:
    """Runs one generation; the service says when to try again (provider down, lease held)."""
    outcome = services.generation_run(generation_id=generation_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(ignore_result=True)
def generation_purge_expired_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): drops stored prompts/responses past retention."""
    return services.generation_purge_expired()

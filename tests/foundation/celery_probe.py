"""A task loaded only by the test's worker (`celery worker -I tests.foundation.celery_probe`)."""

import logging

from celery import shared_task

logger = logging.getLogger("tests.celery_probe")


@shared_task(name="tests.celery_probe.log_line")
def log_line(marker: str) -> None:
    logger.warning("probe %s for dana@example.com", marker)

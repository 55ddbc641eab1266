"""The Celery app. Settings come from Django settings with the CELERY_ prefix."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nutrition_pro.settings")

app = Celery("nutrition_pro")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _attach_request_id(headers=None, **kwargs):
    """Carry the request id of the web request into the task it enqueues."""
    from nutrition_pro.logging import request_id_var

    if headers is not None:
        headers.setdefault("request_id", request_id_var.get())


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs):
    from nutrition_pro.logging import request_id_var

    request_id = getattr(task.request, "request_id", None) if task else None
    request_id_var.set(request_id or f"task-{task.request.id}" if task else "-")


@signals.setup_logging.connect
def _use_django_logging(**kwargs):
    """Keep Django's JSON logging config in workers instead of Celery's own."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)

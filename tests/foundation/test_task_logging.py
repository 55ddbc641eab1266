"""A real worker logs JSON lines that carry the request id of the request that queued the task."""

import json
import subprocess
import time
import uuid

from django.conf import settings

from nutrition_pro.logging import request_id_var
from tests.foundation.celery_probe import log_line
from tests.support import start_celery_worker, stop_process_group


def test_worker_logs_carry_the_request_id_and_mask_emails(tmp_path):
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    log_file = tmp_path / "worker.log"
    env = {"DJANGO_DEBUG": "true", "REDIS_URL": settings.CELERY_BROKER_URL}
    with log_file.open("w") as sink:
        worker = start_celery_worker(
            queue=queue,
            name=f"probe-{queue}",
            concurrency=2,
            env=env,
            loglevel="INFO",
            include=("tests.foundation.celery_probe",),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        marker = uuid.uuid4().hex
        token = request_id_var.set("req-" + marker[:12])
        try:
            log_line.apply_async(args=[marker], queue=queue)
        finally:
            request_id_var.reset(token)
        deadline = time.monotonic() + 30
        records = []
        while time.monotonic() < deadline and not records:
            time.sleep(0.2)
            for line in log_file.read_text().splitlines():
                if line.startswith("{") and '"logger": "tests.celery_probe"' in line:
                    records.append(json.loads(line))
    finally:
        stop_process_group(worker)
    assert records, log_file.read_text()[-2000:]
    assert records[0]["request_id"] == "req-" + marker[:12], log_file.read_text()[-3000:]
    assert "dana@example.com" not in records[0]["message"]
    assert "[EMAIL]" in records[0]["message"]

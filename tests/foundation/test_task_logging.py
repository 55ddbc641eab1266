"""A real worker logs JSON lines that carry the request id of the request that queued the task."""

import json
import os
import subprocess
import sys
import time
import uuid

from django.conf import settings

from nutrition_pro.logging import request_id_var
from tests.foundation.celery_probe import log_line
from tests.support import ROOT


def test_worker_logs_carry_the_request_id_and_mask_emails(tmp_path):
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    log_file = tmp_path / "worker.log"
    env = {**os.environ, "DJANGO_DEBUG": "true", "REDIS_URL": settings.CELERY_BROKER_URL}
    with log_file.open("w") as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "nutrition_pro", "worker",
             "-I", "tests.foundation.celery_probe", "-Q", queue, "-c", "2",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
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
        worker.terminate()
        worker.wait(timeout=20)
    assert records, log_file.read_text()[-2000:]
    assert records[0]["request_id"] == "req-" + marker[:12], log_file.read_text()[-3000:]
    assert "dana@example.com" not in records[0]["message"]
    assert "[EMAIL]" in records[0]["message"]

"""Generations: POST-to-succeeded latency, and generations/s of one worker host (provider 1 s).

Real processes throughout: gunicorn serves the API, `celery -A nutrition_pro worker`
(threads pool) runs the tasks through Redis, and the fake OpenAI-compatible server of the
test suite answers every completion after BENCH_PROVIDER_DELAY seconds (default 1.0).

1. Throughput: BENCH_GENERATIONS requests (default 400) are POSTed while no worker runs,
   then BENCH_WORKER_PROCESSES worker processes (default 4, two per core) with
   BENCH_WORKER_THREADS threads each (default 32) drain the queue; the figure is requests
   divided by the time from the first task's start to the last one's finish.
2. Latency: with the workers idle, BENCH_LATENCY_SAMPLES requests (default 10) one after
   another, each POSTed and then polled (GET every 10 ms) until it succeeds.

Needs REDIS_URL (the broker) and PostgreSQL in DATABASE_URL. Leaves its tenant behind (the
usage ledger is append-only), under a fresh slug each run.
"""

import json
import os
import statistics
import subprocess
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.db.models import Max, Min

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = "bench-model"


def _env_number(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def _request(method: str, url: str, key: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _setup():
    from billing.models import ModelPrice
    from content.models import ContentSample
    from tenants import services as tenant_services
    from tenants.models import Dietitian

    call_command("migrate", verbosity=0)
    ModelPrice.objects.get_or_create(
        model=MODEL,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        defaults={
            "input_price_per_million": Decimal("0.15"),
            "output_price_per_million": Decimal("0.60"),
        },
    )
    slug = f"bench-{uuid.uuid4().hex[:10]}"
    tenant = tenant_services.tenant_create(
        name="Bench", slug=slug, requests_per_minute=1_000_000, monthly_token_quota=10**12
    )
    tenant.max_queued_generations = 100_000
    tenant.monthly_cost_cap = Decimal("1000000")
    tenant.save()
    dietitian = Dietitian.objects.create(
        tenant=tenant, external_ref="bench", name="Bea Bench", ai_consent=True
    )
    ContentSample.objects.create(
        tenant=tenant,
        dietitian=dietitian,
        title="Breakfast first",
        body="Breakfast sets the tone for the day. Keep it simple, warm and filling.",
        status=ContentSample.Status.APPROVED,
    )
    key = tenant_services.api_key_issue(tenant=tenant, name="bench").plaintext
    return tenant, dietitian, key


def _worker(env: dict, queue: str, index: int, threads: int) -> subprocess.Popen:
    from tests.support import start_celery_worker

    os.makedirs(os.path.join(ROOT, "var"), exist_ok=True)
    with open(os.path.join(ROOT, "var", f"bench-worker-{index}.log"), "w") as log:
        # The child keeps its own descriptor of the log.
        return start_celery_worker(
            queue=queue,
            name=f"bench{index}-{queue}",
            concurrency=threads,
            env=env,
            loglevel="ERROR",
            stderr=log,
        )


def _cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU time the process (all its threads) has used so far."""
    with open(f"/proc/{process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run() -> None:
    from llm.models import GenerationRequest
    from tests.llm.fake_openai import FakeOpenAI, ok
    from tests.support import gunicorn_server, stop_process_group

    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        print("  skipped: needs REDIS_URL (broker) and PostgreSQL")
        return
    delay = _env_number("BENCH_PROVIDER_DELAY", 1.0)
    count = int(_env_number("BENCH_GENERATIONS", 400))
    processes = int(_env_number("BENCH_WORKER_PROCESSES", 4))
    threads = int(_env_number("BENCH_WORKER_THREADS", 32))
    samples = int(_env_number("BENCH_LATENCY_SAMPLES", 10))

    _tenant, dietitian, key = _setup()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    fake = FakeOpenAI(default=ok(delay=delay)).start()
    env = {
        **os.environ,
        "LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": fake.url,
        "OPENAI_API_KEY": "sk-bench-fake-provider-key-000",
        "OPENAI_MODEL": MODEL,
        "LLM_MAX_CONCURRENT_CALLS": str(processes * threads * 2),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "WARNING",  # gunicorn's stderr is a pipe nobody reads during the run
    }
    # Workers log as in production (INFO, to var/bench-worker-N.log) and share a few
    # PostgreSQL connections among their threads (see docs).
    worker_env = {
        **env,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "DB_POOL_MAX_SIZE": os.environ.get("BENCH_DB_POOL", "8"),
    }
    body = {
        "dietitian": str(dietitian.pk),
        "kind": "meal_plan_summary",
        "inputs": {"goals": ["more energy"], "allergies": ["peanuts"], "length": "short"},
    }
    workers: list[subprocess.Popen] = []
    try:
        with gunicorn_server(env, workers=2) as base:
            url = f"{base}/api/v1/generations/"
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=8) as pool:
                ids = list(pool.map(lambda _: _request("POST", url, key, body)["id"], range(count)))
            post_seconds = time.monotonic() - started
            print(f"  queued {count} requests over HTTP in {post_seconds:.1f} s (no worker yet)")

            workers = [_worker(worker_env, queue, i, threads) for i in range(processes)]
            deadline = time.monotonic() + 120 + 3 * count * delay / max(processes * threads, 1)
            batch = GenerationRequest.objects.filter(pk__in=ids)
            # CPU from the first task on (the workers' start-up is not a generation's cost).
            while not batch.exclude(status="queued").exists():
                time.sleep(0.02)
            cpu_start = sum(_cpu_seconds(w) for w in workers)
            while batch.exclude(status__in=GenerationRequest.FINAL_STATUSES).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("the workers did not finish in time")
                time.sleep(0.2)
            cpu_ms = (sum(_cpu_seconds(w) for w in workers) - cpu_start) * 1000 / count
            span = batch.aggregate(first=Min("started_at"), last=Max("finished_at"))
            seconds = (span["last"] - span["first"]).total_seconds()
            statuses = {
                s: batch.filter(status=s).count() for s in ("succeeded", "failed", "blocked")
            }
            print(
                f"  throughput: {count / seconds:.1f} generations/s "
                f"({count} in {seconds:.1f} s; {processes} worker process(es) x {threads} threads; "
                f"provider {delay:.1f} s; {statuses})"
            )
            print(
                f"  worker CPU: {cpu_ms:.1f} ms per generation (all worker threads; the "
                f"machine's load average was {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
            )

            latencies = []
            for _ in range(samples):
                t0 = time.monotonic()
                generation_id = _request("POST", url, key, body)["id"]
                while _request("GET", f"{url}{generation_id}/", key)["status"] in (
                    "queued",
                    "running",
                ):
                    time.sleep(0.01)
                latencies.append(time.monotonic() - t0)
            latencies.sort()
            print(
                f"  POST to succeeded: median {statistics.median(latencies):.3f} s, "
                f"min {latencies[0]:.3f} s, max {latencies[-1]:.3f} s "
                f"over {samples} requests (provider answers in {delay:.1f} s)"
            )
    finally:
        for process in workers:
            stop_process_group(process)
        fake.stop()

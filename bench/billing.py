"""Billing: invoicing 1,000 tenants over 1,000,000 ledger rows; quota reservation under contention.

Runs in a dedicated database (`<DATABASE_URL's name>_bench_billing`), created, migrated and
dropped here; the configured database is never written. Figures are wall-clock times on
this machine, printed as they are measured.
"""

import multiprocessing
import os
import statistics
import time
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Sum

TENANTS = int(os.environ.get("BENCH_BILLING_TENANTS", 1000))
LEDGER_ROWS = int(os.environ.get("BENCH_BILLING_ROWS", 1_000_000))
RESERVATIONS_PER_THREAD = int(os.environ.get("BENCH_BILLING_RESERVATIONS", 30))
# Each worker holds a PostgreSQL connection: keep well under max_connections (shared).
WORKER_COUNTS = [int(n) for n in os.environ.get("BENCH_BILLING_WORKERS", "1,4,16").split(",")]


def _admin_cursor_execute(sql: str) -> None:
    """Runs CREATE/DROP DATABASE from the maintenance database (outside any transaction)."""
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


def _use_bench_database() -> str:
    if connection.vendor != "postgresql":
        raise SystemExit("The billing benchmark needs PostgreSQL (set DATABASE_URL).")
    name = f"{settings.DATABASES['default']['NAME']}_bench_billing"
    connections.close_all()
    _admin_cursor_execute(f'DROP DATABASE IF EXISTS "{name}"')
    _admin_cursor_execute(f'CREATE DATABASE "{name}"')
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)
    return name


def _drop_bench_database(name: str, original: str) -> None:
    """Drops the bench database and points the connection back where it was, for the
    benchmarks that run after this one."""
    connections.close_all()
    _admin_cursor_execute(f'DROP DATABASE IF EXISTS "{name}"')
    settings.DATABASES["default"]["NAME"] = original
    connections["default"].settings_dict["NAME"] = original


def _timed(label: str, function):
    started = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def _seed(period) -> None:
    from billing import services
    from billing.models import ModelPrice
    from tenants.models import Plan, Tenant

    ModelPrice.objects.all().delete()
    for model, input_price, output_price in [("small", "0.15", "0.60"), ("large", "2.50", "10")]:
        services.model_price_set(
            model=model,
            input_price_per_million=Decimal(input_price),
            output_price_per_million=Decimal(output_price),
        )
    plan = Plan.objects.create(
        code="bench",
        name="Bench",
        monthly_fee=Decimal("49"),
        included_tokens=500_000,
        overage_price_per_million=Decimal("2"),
    )
    Tenant.objects.bulk_create(
        Tenant(name=f"Bench {i:04d}", slug=f"bench-{i:04d}", plan=plan if i % 2 else None)
        for i in range(TENANTS)
    )
    # One statement: a month of calls spread over all tenants, two models and every second.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_usagerecord (
                id, tenant_id, api_key_id, generation_id, period, occurred_at, model,
                prompt_tokens, completion_tokens, total_tokens,
                input_price_per_million, output_price_per_million, cost)
            SELECT gen_random_uuid(), t.ids[1 + g %% array_length(t.ids, 1)], NULL,
                   gen_random_uuid(), %(period)s::date,
                   %(period)s::timestamptz + (g %% 2419200) * interval '1 second',
                   m.model, m.prompt, m.completion, m.prompt + m.completion,
                   m.input_price, m.output_price,
                   (m.prompt * m.input_price + m.completion * m.output_price) / 1000000
            FROM generate_series(0, %(rows)s - 1) AS g
            CROSS JOIN (SELECT array_agg(id ORDER BY slug) AS ids FROM tenants_tenant) AS t
            CROSS JOIN LATERAL (
                SELECT CASE WHEN g %% 3 = 0 THEN 'large' ELSE 'small' END AS model,
                       200 + g %% 1800 AS prompt,
                       50 + g %% 700 AS completion,
                       CASE WHEN g %% 3 = 0 THEN 2.50 ELSE 0.15 END::numeric AS input_price,
                       CASE WHEN g %% 3 = 0 THEN 10 ELSE 0.60 END::numeric AS output_price
            ) AS m
            """,
            {"period": period.isoformat(), "rows": LEDGER_ROWS},
        )
        cursor.execute("ANALYZE billing_usagerecord")


def _bench_invoices() -> None:
    from billing import services
    from billing.models import Invoice, InvoiceLine, UsageRecord

    period = services.last_closed_period()
    _timed(f"seed {TENANTS} tenants and {LEDGER_ROWS:,} ledger rows", lambda: _seed(period))
    _timed(
        "the grouped SUM over the month alone (for reference)",
        lambda: list(
            UsageRecord.objects.filter(period=period)
            .values("tenant_id", "model")
            .annotate(tokens=Sum("total_tokens"), cost=Sum("cost"))
            .order_by("tenant_id", "model")
        ),
    )
    result, _ = _timed(
        f"issue invoices for {period:%Y-%m}", lambda: services.invoices_issue(period=period)
    )
    print(
        f"    {result.issued} invoices, {InvoiceLine.objects.count()} lines, "
        f"total {result.total:.2f}"
    )
    again, _ = _timed("issue again (idempotent)", lambda: services.invoices_issue(period=period))
    print(f"    {again.issued} new invoices, {again.already_issued} already issued")
    assert Invoice.objects.count() == result.issued


def _bench_contention() -> None:
    from django.db.models import F

    from billing import services
    from billing.models import UsagePeriod
    from tenants.models import Tenant

    tenant = Tenant.objects.create(
        name="Contended",
        slug="contended",
        monthly_token_quota=10**15,
        monthly_cost_cap=Decimal("999999999"),
    )
    counters = services._usage_period(tenant.pk, services.period_start(services.timezone.now()))

    def reserve():
        with transaction.atomic():
            services.quota_reserve(
                tenant=tenant,
                api_key=None,
                generation_id=uuid.uuid4(),
                model="small",
                prompt_tokens_estimate=1500,
                max_output_tokens=800,
            )

    def bare_update():
        # The floor: one UPDATE of the same row, committed; what any row-locked counter costs.
        with transaction.atomic():
            UsagePeriod.objects.filter(pk=counters.pk).update(
                tokens_reserved=F("tokens_reserved") + 1
            )

    print(
        f"  one tenant's quota, {RESERVATIONS_PER_THREAD} operations per process, each in its "
        "own transaction; latency per operation (floor = a bare UPDATE of the same row):"
    )
    _OPERATIONS.update({"floor": bare_update, "quota_reserve": reserve})
    for workers in WORKER_COUNTS:
        for label in ("floor", "quota_reserve"):
            p50, p95, rate = _contended(label, workers)
            print(
                f"    {workers:>2} processes, {label:<13}: p50 {p50:6.1f} ms, "
                f"p95 {p95:6.1f} ms, {rate:5.0f} per s"
            )


def _contended(operation, workers: int) -> tuple[float, float, float]:
    """Runs `operation` in `workers` forked processes at once (web workers are processes, so
    no GIL is shared); returns p50 and p95 latency in ms and operations per second."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_timed_batch, args=(operation, barrier, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=60)
    started = time.perf_counter()
    batches = [results.get(timeout=600) for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    latencies = sorted(x for batch in batches for x in batch)
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000
    return p50, p95, len(latencies) / wall


_OPERATIONS = {}


def _timed_batch(operation_name, barrier, results) -> None:
    operation = _OPERATIONS[operation_name]
    latencies = []
    try:
        operation()  # connect before the start line
        barrier.wait(timeout=60)
        for _ in range(RESERVATIONS_PER_THREAD):
            started = time.perf_counter()
            operation()
            latencies.append(time.perf_counter() - started)
    finally:
        connections.close_all()
        results.put(latencies)


def run() -> None:
    original = settings.DATABASES["default"]["NAME"]
    name = _use_bench_database()
    try:
        _bench_invoices()
        _bench_contention()
    finally:
        _drop_bench_database(name, original)

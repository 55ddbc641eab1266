"""API-key authentication cost: authenticated GET /api/v1/me/ against plain Django.

The design measures an authenticated request against "plain Django on the same PostgreSQL
and Redis (the floor)", with a target of 0.7 of one Redis round trip. The floor is
`bench/floor_wsgi.py`: Django with no middleware and one view making one Redis GET through
Django's cache. `bench/auth_floor_wsgi.py` adds only the service's key check and limits to
that floor, which tells their cost apart from the rest of the stack (middleware, DRF, the
view). Starts a real gunicorn (loopback only) for the service, on the configured database
and Redis, and one with the same settings for each floor; issues a bench key for a
throwaway tenant (deleted afterwards), and drives the floors, /healthz and /api/v1/me/ with
the same bounded load from keep-alive client threads. Prints requests per second of each,
the ratios, and, measured in-process, the SQL queries and Redis round trips of one
authenticated request in the steady state.

Knobs (environment): BENCH_REQUESTS (per URL, default 3000), BENCH_CLIENTS (threads,
default 8), BENCH_WORKERS (gunicorn workers, default 2), BENCH_THREADS (per worker, 4).
"""

import http.client
import os
import secrets
import statistics
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _get(port: int, path: str, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _port(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


def _load(port: int, path: str, headers: dict, total: int, clients: int) -> tuple[float, dict]:
    """Requests per second for `total` requests over `clients` keep-alive connections."""
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def worker(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        seen: dict[int, int] = {}
        start_gate.wait()
        for _ in range(count):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
            if response.will_close:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.close()
        with lock:
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker, args=(n,)) for n in per_client]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - began), statuses


def _in_process_costs(plaintext: str, requests: int = 200) -> tuple[float, float]:
    """(SQL queries, Redis round trips) per authenticated request after the first."""
    import redis.connection
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_HOST="127.0.0.1")
    assert client.get("/api/v1/me/").status_code == 200  # verifies and caches the key
    round_trips = 0
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        nonlocal round_trips
        round_trips += 1
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = counted
    try:
        with CaptureQueriesContext(connection) as queries:
            for _ in range(requests):
                assert client.get("/api/v1/me/").status_code == 200
    finally:
        redis.connection.AbstractConnection.send_packed_command = original
    return len(queries) / requests, round_trips / requests


def _component_costs(plaintext: str, repeat: int = 2000) -> dict[str, float]:
    """Microseconds per call of the pieces an authenticated request adds, in this process."""
    from django.core.cache import cache
    from django.test import RequestFactory
    from rest_framework.request import Request

    from tenants.authentication import ApiKeyAuthentication
    from tenants.throttling import record_request

    django_request = RequestFactory().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    authentication = ApiKeyAuthentication()
    _client, api_key = authentication.authenticate(Request(django_request))
    pieces = {
        "authentication (cached key, HMAC check)": lambda: authentication.authenticate(
            Request(django_request)
        ),
        "rate limits + counters (one pipeline)": lambda: record_request(
            api_key=api_key, ip="127.0.0.1"
        ),
        "one Redis GET through Django's cache": lambda: cache.get("bench:api-auth:probe"),
    }
    costs = {}
    for name, call in pieces.items():
        began = time.perf_counter()
        for _ in range(repeat):
            call()
        costs[name] = (time.perf_counter() - began) / repeat * 1e6
    return costs


def run() -> None:
    from django.core.management import call_command

    from tenants import services
    from tenants.models import Tenant
    from tests.support import gunicorn_server

    total = int(os.environ.get("BENCH_REQUESTS", "3000"))
    clients = int(os.environ.get("BENCH_CLIENTS", "8"))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    threads = int(os.environ.get("BENCH_THREADS", "4"))

    call_command("migrate", verbosity=0)
    tenant = services.tenant_create(
        name="Bench API auth",
        slug=f"bench-api-auth-{secrets.token_hex(4)}",
        requests_per_minute=10_000_000,  # measure authentication, not the 429 path
    )
    try:
        plaintext = services.api_key_issue(tenant=tenant, name="bench").plaintext
        queries, round_trips = _in_process_costs(plaintext)
        components = _component_costs(plaintext)
        auth = {"Authorization": f"Bearer {plaintext}"}
        targets = (("/healthz", {}), ("/api/v1/me/", auth))
        with (
            gunicorn_server(workers=workers, threads=threads) as base,
            gunicorn_server(
                workers=workers,
                threads=threads,
                app="bench.floor_wsgi",
                ready_path="/floor/",
            ) as floor_base,
            gunicorn_server(
                workers=workers,
                threads=threads,
                app="bench.auth_floor_wsgi",
                ready_path="/ready/",
            ) as auth_floor_base,
        ):
            ports = {
                "/healthz": _port(base),
                "/api/v1/me/": _port(base),
                "/floor/": _port(floor_base),
                "/auth-floor/": _port(auth_floor_base),
            }
            urls = (("/floor/", {}), ("/auth-floor/", auth), *targets)
            for path, headers in urls:  # warm-up
                _load(ports[path], path, headers, min(total, 500), clients)
            rounds = {path: [] for path, _ in urls}
            for _ in range(3):  # interleaved, so drift on a shared machine hits all three
                for path, headers in urls:
                    rate, statuses = _load(ports[path], path, headers, total, clients)
                    if set(statuses) != {200}:
                        raise RuntimeError(f"{path} answered {statuses}")
                    rounds[path].append(rate)
    finally:
        Tenant.objects.filter(pk=tenant.pk).delete()

    floor = statistics.median(rounds["/floor/"])
    health = statistics.median(rounds["/healthz"])
    me = statistics.median(rounds["/api/v1/me/"])
    print(f"gunicorn: {workers} workers x {threads} threads; {clients} keep-alive clients")
    print(f"requests per URL per round: {total}; 3 rounds, median shown")
    auth_floor = statistics.median(rounds["/auth-floor/"])
    print(f"GET /floor/ (plain Django, one Redis GET): {floor:8.0f} req/s")
    print(f"GET /auth-floor/ (plain Django, key+limits): {auth_floor:6.0f} req/s")
    print(f"GET /healthz (the service, no I/O):        {health:8.0f} req/s")
    print(f"GET /api/v1/me/ (the service, API key):    {me:8.0f} req/s")
    print(f"ratio me/floor (design target 0.7):        {me / floor:8.2f}")
    print(f"ratio auth-floor/floor:                    {auth_floor / floor:8.2f}")
    print(f"ratio me/healthz:                          {me / health:8.2f}")
    print(f"SQL queries per authenticated request (steady state): {queries:.2f}")
    print(f"Redis round trips per authenticated request:          {round_trips:.2f}")
    for name, micros in components.items():
        print(f"{name + ':':52s} {micros:6.0f} us")

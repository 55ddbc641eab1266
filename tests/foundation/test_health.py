"""Liveness never touches I/O; readiness names the dependency that is down (real processes)."""

import json

import pytest

from tests.support import gunicorn_server, http_get, live_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_ready_when_database_cache_and_broker_answer():
    with gunicorn_server(live_env()) as base:
        status, _, body = http_get(f"{base}/readyz")
    assert status == 200
    assert json.loads(body)["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_not_ready_when_the_database_is_unreachable():
    env = live_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    with gunicorn_server(env) as base:
        assert http_get(f"{base}/healthz")[0] == 200
        status, _, body = http_get(f"{base}/readyz", timeout=15)
    assert status == 503
    error = json.loads(body)["error"]
    assert error["code"] == "not_ready"
    assert error["details"]["checks"]["database"] == "unavailable"
    assert error["details"]["checks"]["cache"] == "ok"
    assert "database" in error["message"]


def test_not_ready_when_redis_is_unreachable():
    with gunicorn_server(live_env(REDIS_URL="redis://127.0.0.1:1/0")) as base:
        status, _, body = http_get(f"{base}/readyz", timeout=15)
    assert status == 503
    checks = json.loads(body)["error"]["details"]["checks"]
    assert checks == {"database": "ok", "cache": "unavailable", "broker": "unavailable"}

"""Helpers for the tenants tests: error envelopes and counting Redis round trips."""

import json
from contextlib import contextmanager

import redis.connection


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = json.loads(response.content)
    assert set(body) == {"error"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


@contextmanager
def counting_redis_round_trips():
    """Counts round trips to Redis (a pipeline is one) made while the block runs."""
    counter = {"round_trips": 0}
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        counter["round_trips"] += 1
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = counted
    try:
        yield counter
    finally:
        redis.connection.AbstractConnection.send_packed_command = original

"""Concurrent POSTs: the Idempotency-Key and the tenant's queue cap hold under races."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from llm.models import GenerationRequest
from tests.conftest import client_for
from tests.llm.conftest import body_for

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/generations/"


def _post_concurrently(plaintext_key, body, count, **headers):
    def post(_):
        try:
            return client_for(plaintext_key).post(URL, body, format="json", **headers)
        finally:
            connection.close()  # each thread's own connection

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(post, range(count)))


def test_concurrent_posts_with_one_idempotency_key_create_one_request(
    tenant_a, dietitian_a, issue_key
):
    key = issue_key(tenant_a).plaintext
    responses = _post_concurrently(key, body_for(dietitian_a), 6, HTTP_IDEMPOTENCY_KEY="same-order")

    assert [r.status_code for r in responses] == [202] * 6
    assert len({r.json()["id"] for r in responses}) == 1
    assert GenerationRequest.objects.count() == 1


def test_concurrent_posts_cannot_overrun_the_queue_cap(tenant_a, dietitian_a, issue_key):
    tenant_a.max_queued_generations = 2
    tenant_a.save()
    key = issue_key(tenant_a).plaintext
    responses = _post_concurrently(key, body_for(dietitian_a), 6)

    assert sorted(r.status_code for r in responses) == [202, 202, 429, 429, 429, 429]
    assert GenerationRequest.objects.count() == 2

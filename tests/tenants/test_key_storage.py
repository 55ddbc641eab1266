"""Only a keyed hash of the secret is stored; the plaintext is in no table, log or admin page."""

import logging

import pytest
from django.db import connection

from tenants import services
from tenants.keys import hash_secret, parse_key
from tenants.models import ApiKey
from tests.conftest import client_for

from .helpers import error_of

pytestmark = pytest.mark.django_db


def _dump_table(table: str) -> str:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} TO STDOUT") as copy:
        return b"".join(bytes(block) for block in copy).decode()


def test_the_database_never_holds_a_plaintext_secret(tenant_a, issue_key, api_a):
    issued = [issue_key(tenant_a, name=f"app {n}") for n in range(3)]
    rotated = issue_key(tenant_a)
    issued.append(services.api_key_rotate(api_key=rotated.api_key))
    for item in issued:  # use them, so last-used columns are written too
        assert client_for(item.plaintext).get("/api/v1/me/").status_code == 200

    dump = _dump_table("tenants_apikey")
    assert dump.count("\n") == ApiKey.objects.count() == 6
    for item in issued:
        secret = parse_key(item.plaintext).secret
        assert item.plaintext not in dump
        assert secret not in dump
        assert secret[:16] not in dump
        assert hash_secret(secret) in dump  # what is there instead


def test_the_stored_hash_depends_on_the_server_side_pepper(settings, tenant_a, issue_key):
    issued = issue_key(tenant_a)
    secret = parse_key(issued.plaintext).secret
    stored = ApiKey.objects.get(pk=issued.api_key.pk).secret_hash
    settings.API_KEY_PEPPER = "another-pepper-" + "x" * 32
    assert hash_secret(secret) != stored


def test_no_log_record_carries_the_key(tenant_a, issue_key, caplog, anonymous_api):
    caplog.set_level(logging.DEBUG)
    issued = issue_key(tenant_a)
    client_for(issued.plaintext).get("/api/v1/me/")
    client_for(issued.plaintext[:-1] + "0").get("/api/v1/me/")
    secret = parse_key(issued.plaintext).secret
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert secret not in logged
    assert issued.plaintext not in repr(issued)


def test_an_error_never_echoes_the_key(tenant_a, issue_key):
    issued = issue_key(tenant_a)
    services.api_key_revoke(api_key=issued.api_key)
    response = client_for(issued.plaintext).get("/api/v1/me/")
    error_of(response, 401, "authentication_failed")
    assert parse_key(issued.plaintext).secret.encode() not in response.content
    assert issued.api_key.prefix.encode() not in response.content

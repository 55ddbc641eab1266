"""The service's database role can work with rows but not change the schema or erase history."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tenants.models import Tenant

pytestmark = pytest.mark.django_db

ROLE = "np_service_role_test"


@pytest.fixture
def as_service_role():
    """Runs statements under the service role (SET ROLE) inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    call_command("grant_app_role", ROLE, stdout=open("/dev/null", "w"))  # noqa: SIM115

    def run(sql: str, params=None):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {ROLE}")
            cursor.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else None

    return run


def test_the_role_reads_and_writes_rows(as_service_role, tenant_a):
    rows = as_service_role("SELECT name FROM tenants_tenant WHERE id = %s", [tenant_a.pk])
    assert rows == [("Alpha Meals",)]
    as_service_role("UPDATE tenants_tenant SET name = 'Alpha Renamed' WHERE id = %s", [tenant_a.pk])
    assert Tenant.objects.get(pk=tenant_a.pk).name == "Alpha Renamed"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE stolen (data text)",
        "ALTER TABLE tenants_apikey ADD COLUMN leaked text",
        "DROP TABLE tenants_apikey",
        "TRUNCATE content_contentsample",
        "DELETE FROM billing_usagerecord",
        "DELETE FROM auditlog_logentry",
    ],
)
def test_the_role_cannot_change_the_schema_or_erase_history(as_service_role, statement):
    with pytest.raises(DatabaseError, match=r"permission denied|must be owner"):
        as_service_role(statement)

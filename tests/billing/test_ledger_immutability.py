"""The usage ledger is append-only, and the database itself enforces it."""

import pytest
from django.db import IntegrityError, connection, transaction

from billing import services
from billing.models import UsageRecord

from .conftest import MODEL

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger_row(tenant_a, reserve):
    reservation = reserve(tenant_a)
    return services.quota_settle(
        generation_id=reservation.generation_id, model=MODEL, prompt_tokens=10, completion_tokens=5
    )


def test_the_database_refuses_an_update_of_a_ledger_row(ledger_row):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE billing_usagerecord SET cost = 0, completion_tokens = 0, total_tokens = 10"
            " WHERE id = %s",
            [ledger_row.pk],
        )
    ledger_row.refresh_from_db()
    assert ledger_row.completion_tokens == 5


def test_the_database_refuses_a_delete_of_a_ledger_row(ledger_row):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM billing_usagerecord WHERE id = %s", [ledger_row.pk])
    assert UsageRecord.objects.filter(pk=ledger_row.pk).exists()


def test_the_orm_cannot_change_a_ledger_row_either(ledger_row):
    ledger_row.cost = 0
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_row.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageRecord.objects.filter(pk=ledger_row.pk).delete()

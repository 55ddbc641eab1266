"""Invoices: summed over the ledger, idempotent per tenant and month, frozen once issued."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from billing import services
from billing.models import Invoice, InvoiceLine
from nutrition_pro.exceptions import InvalidInput
from tenants.models import Plan
from tests.billing.metering import provider_call

pytestmark = pytest.mark.django_db

FEBRUARY = datetime(2026, 2, 1, tzinfo=UTC).date()
MID_FEBRUARY = datetime(2026, 2, 14, 12, tzinfo=UTC)
LAST_SECOND_OF_FEBRUARY = datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)
MARCH = datetime(2026, 3, 2, 3, tzinfo=UTC)


def spend(tenant, model, prompt, completion, at):
    with time_machine.travel(at, tick=False):
        return provider_call(tenant, model, prompt, completion)


@pytest.fixture
def february(tenant_a, tenant_b):
    """A's plan: 49.00 a month, 1M tokens included, 2.00 per million beyond; two models."""
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        for model, input_price, output_price in [("small", "0.15", "0.60"), ("large", "2.5", "10")]:
            services.model_price_set(
                model=model,
                input_price_per_million=Decimal(input_price),
                output_price_per_million=Decimal(output_price),
            )
    plan = Plan.objects.create(
        code="pro",
        name="Pro",
        monthly_fee=Decimal("49.00"),
        included_tokens=1_000_000,
        overage_price_per_million=Decimal("2.00"),
    )
    tenant_a.plan = plan
    tenant_a.monthly_token_quota = 10_000_000
    tenant_a.save()
    spend(tenant_a, "small", 400_000, 300_000, MID_FEBRUARY)
    spend(tenant_a, "small", 200_000, 100_000, LAST_SECOND_OF_FEBRUARY)
    spend(tenant_a, "large", 150_000, 50_000, MID_FEBRUARY)
    spend(tenant_b, "small", 1000, 2000, MID_FEBRUARY)
    # March usage belongs to March's invoice.
    spend(tenant_a, "large", 999, 999, MARCH)


def issue(period=FEBRUARY):
    with time_machine.travel(MARCH, tick=False):
        return services.invoices_issue(period=period)


def test_it_invoices_the_month_from_the_ledger(tenant_a, tenant_b, february):
    result = issue()

    assert (result.issued, result.already_issued) == (2, 0)
    invoice = Invoice.objects.get(tenant=tenant_a, period=FEBRUARY)
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.number == "INV-202602-alpha"
    lines = [
        (line.kind, line.model, line.quantity, line.amount)
        for line in invoice.lines.order_by("position")
    ]
    assert lines == [
        ("fee", "", 1, Decimal("49.00")),
        # large: 150000 x 2.5 / 1M + 50000 x 10 / 1M = 0.375 + 0.5
        ("usage", "large", 200_000, Decimal("0.88")),
        # small: 600000 x 0.15 / 1M + 400000 x 0.60 / 1M = 0.09 + 0.24
        ("usage", "small", 1_000_000, Decimal("0.33")),
        # 1.2M tokens, 1M included: 200000 x 2.00 / 1M
        ("overage", "", 200_000, Decimal("0.40")),
    ]
    assert invoice.total == Decimal("50.61")
    assert invoice.total_tokens == 1_200_000
    small = invoice.lines.get(model="small")
    assert (small.prompt_tokens, small.completion_tokens) == (600_000, 400_000)

    other = Invoice.objects.get(tenant=tenant_b, period=FEBRUARY)
    # 1000 x 0.15 / 1M + 2000 x 0.60 / 1M = 0.00135, rounded half up to the cent
    assert other.total == Decimal("0.00")
    assert other.total_tokens == 3000


def test_running_it_twice_changes_nothing(february):
    issue()
    before = list(Invoice.objects.values().order_by("number"))
    lines_before = list(InvoiceLine.objects.values().order_by("pk"))

    result = issue()

    assert (result.issued, result.already_issued) == (0, 2)
    assert list(Invoice.objects.values().order_by("number")) == before
    assert list(InvoiceLine.objects.values().order_by("pk")) == lines_before


def test_the_database_allows_one_invoice_per_tenant_and_month(tenant_a, february):
    issue()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(tenant=tenant_a, number="INV-dup", period=FEBRUARY)


def test_only_a_closed_month_can_be_invoiced(february):
    with pytest.raises(InvalidInput), time_machine.travel(MID_FEBRUARY, tick=False):
        services.invoices_issue(period=FEBRUARY)
    assert not Invoice.objects.exists()


def test_a_tenant_with_neither_fee_nor_usage_gets_no_invoice(db, tenant_a):
    assert issue().issued == 0


def test_the_database_refuses_an_update_of_an_issued_invoice(tenant_a, february):
    issue()
    invoice = Invoice.objects.get(tenant=tenant_a)
    with (
        pytest.raises(IntegrityError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE billing_invoice SET total = 1 WHERE id = %s", [invoice.pk])
    with (
        pytest.raises(IntegrityError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE billing_invoiceline SET amount = 0 WHERE invoice_id = %s", [invoice.pk]
        )
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=invoice, position=99, kind="fee", description="sneaky", amount=Decimal(5)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.DRAFT)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("50.61")
    assert invoice.lines.count() == 4


def test_an_issued_invoice_can_still_be_marked_paid(tenant_a, february):
    issue()
    invoice = services.invoice_mark_paid(invoice=Invoice.objects.get(tenant=tenant_a))
    assert invoice.status == Invoice.Status.PAID
    assert invoice.paid_at is not None
    with pytest.raises(InvalidInput):
        services.invoice_mark_paid(invoice=invoice)


def test_corrections_are_credit_notes(tenant_a, february):
    issue()
    invoice = Invoice.objects.get(tenant=tenant_a, kind=Invoice.Kind.INVOICE)

    note = services.invoice_credit_note_issue(
        invoice=invoice, amount=Decimal("10.605"), reason="Goodwill for an outage"
    )

    assert note.kind == Invoice.Kind.CREDIT_NOTE
    assert note.status == Invoice.Status.ISSUED
    assert note.corrects == invoice
    assert note.total == Decimal("-10.61")
    assert note.number == "CN-202602-alpha-1"
    assert list(note.lines.values_list("amount", flat=True)) == [Decimal("-10.61")]
    invoice.refresh_from_db()
    assert invoice.total == Decimal("50.61")
    # Never more than what is left of the invoice.
    with pytest.raises(InvalidInput):
        services.invoice_credit_note_issue(invoice=invoice, amount=Decimal("40.01"), reason="again")
    with pytest.raises(InvalidInput):
        services.invoice_credit_note_issue(invoice=invoice, amount=Decimal(1), reason=" ")
    # Re-issuing the month leaves the invoice and its credit note as they are.
    assert issue().issued == 0
    assert Invoice.objects.filter(tenant=tenant_a).count() == 2


def test_the_command_issues_the_given_month_once(february):
    out = StringIO()
    with time_machine.travel(MARCH, tick=False):
        call_command("issue_invoices", "--period", "2026-02", stdout=out)
        call_command("issue_invoices", "--period", "2026-02", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "2026-02: issued 2 invoices totalling 50.61 (0 already issued)."
    assert lines[1] == "2026-02: issued 0 invoices totalling 0.00 (2 already issued)."
    assert Invoice.objects.count() == 2


def test_the_command_defaults_to_the_last_closed_month(february):
    out = StringIO()
    with time_machine.travel(MARCH, tick=False):
        call_command("issue_invoices", stdout=out)
    assert out.getvalue().startswith("2026-02: issued 2 invoices")


@pytest.mark.parametrize("period", ["2026-13", "26-02", "soon", "2999-01"])
def test_the_command_refuses_a_bad_period(db, period):
    with pytest.raises(CommandError), time_machine.travel(MARCH, tick=False):
        call_command("issue_invoices", "--period", period, stdout=StringIO())
    assert not Invoice.objects.exists()


def test_a_tenant_with_the_longest_slug_is_invoiced(db):
    from tenants.services import tenant_create

    tenant = tenant_create(name="Long", slug="x" * 60)
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        services.model_price_set(
            model="small", input_price_per_million=Decimal(1), output_price_per_million=Decimal(1)
        )
    spend(tenant, "small", 10_000, 10_000, MID_FEBRUARY)
    assert issue().issued == 1
    invoice = Invoice.objects.get(tenant=tenant)
    note = services.invoice_credit_note_issue(invoice=invoice, amount=Decimal("0.01"), reason="r")
    assert note.number == f"CN-202602-{'x' * 60}-1"

"""The billing admin: prices added not edited, usage by tenant and day, invoices and CSV."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import Invoice, InvoiceLine, ModelPrice

from .conftest import MODEL

pytestmark = pytest.mark.django_db


def issued_invoice(tenant, lines):
    invoice = Invoice.objects.create(
        tenant=tenant,
        number=f"INV-202601-{tenant.slug}",
        period=datetime(2026, 1, 1, tzinfo=UTC).date(),
        total=sum(Decimal(amount) for _, amount in lines),
    )
    for position, (description, amount) in enumerate(lines, start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            kind="usage",
            description=description,
            amount=Decimal(amount),
        )
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    invoice.refresh_from_db()
    return invoice


def test_adding_a_price_in_the_admin_closes_the_previous_one(admin_client, price):
    response = admin_client.post(
        "/admin/billing/modelprice/add/",
        {
            "model": MODEL,
            "input_price_per_million": "3.5",
            "output_price_per_million": "7",
            "valid_from_0": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d"),
            "valid_from_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    new = ModelPrice.objects.get(model=MODEL, valid_to__isnull=True)
    price.refresh_from_db()
    assert new.input_price_per_million == Decimal("3.5")
    assert price.valid_to == new.valid_from


def test_the_admin_refuses_a_back_dated_price(admin_client, price):
    response = admin_client.post(
        "/admin/billing/modelprice/add/",
        {
            "model": MODEL,
            "input_price_per_million": "3.5",
            "output_price_per_million": "7",
            "valid_from_0": "2021-01-01",
            "valid_from_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert b"Must not be past" in response.content
    assert ModelPrice.objects.filter(model=MODEL).count() == 1


def test_a_price_cannot_be_edited_or_deleted_in_the_admin(admin_client, price):
    admin_client.post(
        f"/admin/billing/modelprice/{price.pk}/change/",
        {"model": MODEL, "input_price_per_million": "0", "output_price_per_million": "0"},
    )
    price.refresh_from_db()
    assert price.input_price_per_million == Decimal("1.00")
    response = admin_client.post(f"/admin/billing/modelprice/{price.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ModelPrice.objects.filter(pk=price.pk).exists()


def test_usage_by_tenant_and_day(admin_client, tenant_a, tenant_b, reserve):
    for tenant, tokens in [(tenant_a, 300), (tenant_a, 200), (tenant_b, 7)]:
        reservation = reserve(tenant)
        services.quota_settle(
            generation_id=reservation.generation_id,
            model=MODEL,
            prompt_tokens=tokens,
            completion_tokens=0,
        )
    response = admin_client.get("/admin/billing/usagerecord/by-day/")
    assert response.status_code == 200
    rows = {
        (row["tenant__slug"], row["calls"], row["total_tokens"]) for row in response.context["rows"]
    }
    assert rows == {("alpha", 2, 500), ("beta", 1, 7)}
    assert admin_client.get("/admin/billing/usagerecord/").status_code == 200


def test_the_ledger_admin_is_read_only(admin_client, tenant_a, reserve):
    reservation = reserve(tenant_a)
    record = services.quota_settle(
        generation_id=reservation.generation_id, model=MODEL, prompt_tokens=1, completion_tokens=1
    )
    assert admin_client.get("/admin/billing/usagerecord/add/").status_code == 403
    response = admin_client.post(f"/admin/billing/usagerecord/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403


def test_invoices_export_as_csv_one_row_per_line(admin_client, tenant_a, tenant_b):
    first = issued_invoice(tenant_a, [("Plan fee", "49.00"), ("=HYPERLINK(evil)", "1.50")])
    issued_invoice(tenant_b, [("Plan fee", "9.00")])

    response = admin_client.post(
        "/admin/billing/invoice/",
        {"action": "export_csv", "_selected_action": [str(first.pk)]},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["number"], row["description"], row["amount"]) for row in rows] == [
        ("INV-202601-alpha", "Plan fee", "49.00"),
        ("INV-202601-alpha", "'=HYPERLINK(evil)", "1.50"),
    ]
    assert rows[0]["invoice_total"] == "50.50"


def test_marking_paid_from_the_admin(admin_client, tenant_a):
    invoice = issued_invoice(tenant_a, [("Plan fee", "49.00")])
    admin_client.post(
        "/admin/billing/invoice/",
        {"action": "mark_paid", "_selected_action": [str(invoice.pk)]},
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_an_invoice_cannot_be_edited_in_the_admin(admin_client, tenant_a):
    invoice = issued_invoice(tenant_a, [("Plan fee", "49.00")])
    page = admin_client.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200
    assert b"Issue a credit note" in page.content
    admin_client.post(f"/admin/billing/invoice/{invoice.pk}/change/", {"total": "0"})
    invoice.refresh_from_db()
    assert invoice.total == Decimal("49.00")


def test_a_credit_note_from_the_admin(admin_client, tenant_a):
    invoice = issued_invoice(tenant_a, [("Plan fee", "49.00")])
    url = f"/admin/billing/invoice/{invoice.pk}/credit-note/"
    assert admin_client.get(url).status_code == 200

    too_much = admin_client.post(url, {"amount": "50", "reason": "oops"})
    assert too_much.status_code == 200
    assert b"cannot exceed" in too_much.content

    response = admin_client.post(url, {"amount": "9", "reason": "Outage on 3 January"})
    assert response.status_code == 302
    note = Invoice.objects.get(kind="credit_note")
    assert (note.corrects_id, note.total) == (invoice.pk, Decimal("-9.00"))
    unknown = f"/admin/billing/invoice/{uuid.uuid4()}/credit-note/"
    assert admin_client.get(unknown).status_code == 404


def test_billing_admin_needs_staff(client, tenant_a):
    response = client.get("/admin/billing/invoice/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_staff_without_billing_permissions_cannot_mark_paid_or_credit(tenant_a):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from tests.controlplane.sessions import verified_client

    invoice = issued_invoice(tenant_a, [("Plan fee", "49.00")])
    viewer = get_user_model().objects.create_user("viewer", "v@example.com", "x" * 16)
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client = verified_client(viewer)

    assert client.get("/admin/billing/invoice/").status_code == 200
    client.post(
        "/admin/billing/invoice/",
        {"action": "mark_paid", "_selected_action": [str(invoice.pk)]},
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    url = f"/admin/billing/invoice/{invoice.pk}/credit-note/"
    assert client.post(url, {"amount": "1", "reason": "x"}).status_code == 403
    assert not Invoice.objects.filter(kind="credit_note").exists()
    exported = client.post(
        "/admin/billing/invoice/",
        {"action": "export_csv", "_selected_action": [str(invoice.pk)]},
    )
    assert exported["Content-Type"].startswith("text/csv")

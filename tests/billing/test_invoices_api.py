"""GET /api/v1/invoices/ and /{id}/: the caller's issued invoices, never another tenant's."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Invoice, InvoiceLine

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/"


def make_invoice(tenant, month, amount="12.34", issue=True):
    invoice = Invoice.objects.create(
        tenant=tenant,
        number=f"INV-2026{month:02d}-{tenant.slug}",
        period=date(2026, month, 1),
        total=Decimal(amount),
        total_tokens=1000,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        kind="usage",
        description="Usage of m",
        model="m",
        quantity=1000,
        prompt_tokens=600,
        completion_tokens=400,
        amount=Decimal(amount),
    )
    if issue:
        Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    return invoice


def test_it_lists_the_callers_issued_invoices_with_their_lines(api_a, tenant_a, tenant_b):
    make_invoice(tenant_a, 1)
    make_invoice(tenant_a, 2, "99.99")
    make_invoice(tenant_a, 3, issue=False)  # a draft
    make_invoice(tenant_b, 2)

    response = api_a.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["number"] for row in body["results"]] == ["INV-202602-alpha", "INV-202601-alpha"]
    first = body["results"][0]
    assert (first["period"], first["status"], first["total"]) == ("2026-02", "issued", "99.99")
    assert first["lines"] == [
        {
            "position": 1,
            "kind": "usage",
            "description": "Usage of m",
            "model": "m",
            "quantity": 1000,
            "prompt_tokens": 600,
            "completion_tokens": 400,
            "amount": "99.99",
        }
    ]


def test_it_shows_one_invoice(api_a, tenant_a):
    invoice = make_invoice(tenant_a, 1)
    response = api_a.get(f"{URL}{invoice.pk}/")
    assert response.status_code == 200
    assert response.json()["number"] == "INV-202601-alpha"


def test_another_tenants_invoice_is_a_404(api_a, tenant_b):
    invoice = make_invoice(tenant_b, 1)
    response = api_a.get(f"{URL}{invoice.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api_a.get(f"{URL}{uuid.uuid4()}/").status_code == 404


def test_a_draft_is_a_404(api_a, tenant_a):
    invoice = make_invoice(tenant_a, 1, issue=False)
    assert api_a.get(f"{URL}{invoice.pk}/").status_code == 404


def test_the_list_needs_the_usage_read_scope(tenant_a, issue_key):
    from tests.conftest import client_for

    invoice = make_invoice(tenant_a, 1)
    client = client_for(issue_key(tenant_a, scopes=["samples:read"]).plaintext)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{invoice.pk}/").status_code == 403


def test_the_list_costs_the_same_queries_for_one_or_many_invoices(api_a, tenant_a):
    make_invoice(tenant_a, 1)
    api_a.get(URL)  # warm the key cache
    with CaptureQueriesContext(connection) as one:
        api_a.get(URL)
    for month in range(2, 8):
        make_invoice(tenant_a, month)
    with CaptureQueriesContext(connection) as many:
        assert api_a.get(URL).json()["count"] == 7
    assert len(many) == len(one)

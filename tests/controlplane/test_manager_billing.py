"""The manager's usage (with a daily chart) and invoices: their own tenant's only."""

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, InvoiceLine, ModelPrice
from tests.billing.metering import provider_call

MODEL = "chart-model"


@pytest.fixture
def price(db):
    return ModelPrice.objects.create(
        model=MODEL,
        input_price_per_million=Decimal("1.00"),
        output_price_per_million=Decimal("2.00"),
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    )


def _spend(tenant, prompt, completion):
    return provider_call(tenant, MODEL, prompt, completion)


def _invoice(tenant, number, total="49.00"):
    invoice = Invoice.objects.create(
        tenant=tenant, number=number, period=datetime(2026, 1, 1, tzinfo=UTC).date(), total=total
    )
    InvoiceLine.objects.create(
        invoice=invoice, position=1, kind="fee", description="Plan fee", amount=Decimal(total)
    )
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    return invoice


def test_usage_shows_the_tenants_own_tokens_cost_and_a_daily_chart(
    signed_in_manager, tenant_a, tenant_b, price
):
    web, _, _ = signed_in_manager
    _spend(tenant_a, 1000, 500)
    _spend(tenant_a, 2000, 1000)
    _spend(tenant_b, 77_777, 1)  # the outsider's usage must not show
    page = web.get("/portal/manage/usage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'id="tokens-used">4500<', html)
    # 3000 prompt tokens at 1.00/M plus 1500 completion tokens at 2.00/M.
    cost = Decimal(re.search(r'id="cost-used">([0-9.]+)<', html).group(1))
    assert cost == Decimal("0.006")
    assert "<svg" in html and "<script" not in html
    today = timezone.now().day
    assert f"<title>day {today}: 4500 tokens</title>" in html
    assert "77778" not in html


def test_a_malformed_period_shows_the_current_month(signed_in_manager):
    web, _, _ = signed_in_manager
    response = web.get("/portal/manage/usage/?period=2026-13")
    assert response.status_code == 200
    assert f"{timezone.now():%B %Y}" in response.content.decode()


def test_invoices_list_and_open_only_the_tenants_own(signed_in_manager, tenant_a, tenant_b):
    web, _, _ = signed_in_manager
    own = _invoice(tenant_a, "INV-202601-alpha")
    other = _invoice(tenant_b, "INV-202601-beta", total="99.00")
    listing = web.get("/portal/manage/invoices/").content.decode()
    assert own.number in listing and other.number not in listing
    detail = web.get(f"/portal/manage/invoices/{own.pk}/")
    assert re.search(r'id="invoice-total">49.00 USD<', detail.content.decode())
    assert web.get(f"/portal/manage/invoices/{other.pk}/").status_code == 404
    assert web.get(f"/portal/manage/invoices/{uuid.uuid4()}/").status_code == 404

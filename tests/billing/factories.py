"""Billing objects for tests outside tests/billing (the status matrix)."""

from datetime import date
from decimal import Decimal

from django.utils import timezone

from billing.models import Invoice, InvoiceLine


def issued_invoice(tenant, dietitian=None) -> dict:
    """An issued invoice of `tenant`; returns the URL kwargs naming it."""
    invoice = Invoice.objects.create(
        tenant=tenant, number=f"INV-202601-{tenant.slug}", period=date(2026, 1, 1), total=1
    )
    InvoiceLine.objects.create(
        invoice=invoice, position=1, kind="fee", description="Fee", amount=Decimal(1)
    )
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    return {"invoice_id": invoice.pk}

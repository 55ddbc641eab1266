"""Admin writes to keys, prices and invoices: re-authentication first, then audited with
the acting user and the source address."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.utils import timezone

from billing.models import Invoice, InvoiceLine, ModelPrice
from nutrition_pro.audit import Event, audit_events
from tenants.models import ApiKey, Plan, Tenant
from tests.controlplane.conftest import STAFF_IP, reauthenticate


@pytest.fixture
def stale_admin(signed_in_admin):
    """A verified admin session whose last password-and-code confirmation is old."""
    web, user, device = signed_in_admin
    session = web.session
    session["reauth_at"] = 0
    session.save()
    return web, user, device


def _key_form(tenant):
    return {"tenant": tenant.pk, "name": "admin-key", "scopes": ["usage:read"]}


def test_issuing_a_key_in_the_admin_asks_for_reauthentication_first(stale_admin, tenant_a):
    web, user, device = stale_admin
    response = web.post("/admin/tenants/apikey/add/", _key_form(tenant_a))
    assert response.status_code == 302
    assert response.url.startswith("/portal/reauth/")
    assert not ApiKey.objects.exists()
    assert web.get("/admin/tenants/apikey/add/").url.startswith("/portal/reauth/")

    reauthenticate(web, device)
    response = web.post("/admin/tenants/apikey/add/", _key_form(tenant_a))
    assert response.status_code == 200
    key = ApiKey.objects.get(name="admin-key")
    entry = audit_events(Event.API_KEY_ISSUED).get(object_pk=str(key.pk))
    assert (entry.actor, entry.remote_addr) == (user, STAFF_IP)
    assert audit_events(Event.REAUTH_SUCCEEDED).filter(actor=user, remote_addr=STAFF_IP).exists()


def test_rotating_and_revoking_from_the_admin_are_audited(stale_admin, tenant_a, issue_key):
    web, user, device = stale_admin
    key = issue_key(tenant_a).api_key
    action = {"action": "rotate_key", "_selected_action": [key.pk]}
    assert web.post("/admin/tenants/apikey/", action).url.startswith("/portal/reauth/")
    assert not ApiKey.objects.filter(replaces=key).exists()

    reauthenticate(web, device)
    assert web.post("/admin/tenants/apikey/", action).status_code == 200
    rotated = audit_events(Event.API_KEY_ROTATED).get(object_pk=str(key.pk))
    assert (rotated.actor, rotated.remote_addr) == (user, STAFF_IP)

    web.post("/admin/tenants/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]})
    revoked = audit_events(Event.API_KEY_REVOKED).get(object_pk=str(key.pk))
    assert (revoked.actor, revoked.remote_addr) == (user, STAFF_IP)


def test_the_reauthentication_lasts_five_minutes(signed_in_admin, tenant_a):
    web, _, _ = signed_in_admin
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        traveller.shift(4 * 60)
        assert web.get("/admin/tenants/apikey/add/").status_code == 200
        traveller.shift(2 * 60)
        assert web.get("/admin/tenants/apikey/add/").url.startswith("/portal/reauth/")


def test_a_new_price_needs_reauthentication_and_is_audited(stale_admin):
    web, user, device = stale_admin
    form = {
        "model": "gpt-test",
        "input_price_per_million": "3.5",
        "output_price_per_million": "7",
        "valid_from_0": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d"),
        "valid_from_1": "00:00:00",
    }
    assert web.post("/admin/billing/modelprice/add/", form).url.startswith("/portal/reauth/")
    assert not ModelPrice.objects.filter(model="gpt-test").exists()
    reauthenticate(web, device)
    assert web.post("/admin/billing/modelprice/add/", form).status_code == 302
    price = ModelPrice.objects.get(model="gpt-test")
    created = LogEntry.objects.get_for_object(price).get(action=LogEntry.Action.CREATE)
    assert (created.actor, created.remote_addr) == (user, STAFF_IP)


def test_marking_an_invoice_paid_needs_reauthentication_and_is_audited(stale_admin, tenant_a):
    web, user, device = stale_admin
    invoice = Invoice.objects.create(
        tenant=tenant_a, number="INV-1", period=datetime(2026, 1, 1, tzinfo=UTC).date(), total=10
    )
    InvoiceLine.objects.create(
        invoice=invoice, position=1, kind="fee", description="Fee", amount=Decimal(10)
    )
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    action = {"action": "mark_paid", "_selected_action": [invoice.pk]}
    assert web.post("/admin/billing/invoice/", action).url.startswith("/portal/reauth/")
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"
    reauthenticate(web, device)
    web.post("/admin/billing/invoice/", action)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    paid = audit_events(Event.INVOICE_PAID).get(object_pk=str(invoice.pk))
    assert (paid.actor, paid.remote_addr) == (user, STAFF_IP)


def test_issuing_invoices_and_credit_notes_is_audited(stale_admin, tenant_a):
    from billing import services

    web, user, device = stale_admin
    reauthenticate(web, device)
    invoice = Invoice.objects.create(
        tenant=tenant_a, number="INV-2", period=datetime(2026, 1, 1, tzinfo=UTC).date(), total=10
    )
    InvoiceLine.objects.create(
        invoice=invoice, position=1, kind="fee", description="Fee", amount=Decimal(10)
    )
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    web.post(
        f"/admin/billing/invoice/{invoice.pk}/credit-note/", {"amount": "4", "reason": "goodwill"}
    )
    note = Invoice.objects.get(corrects=invoice)
    entry = audit_events(Event.CREDIT_NOTE_ISSUED).get(object_pk=str(note.pk))
    assert (entry.actor, entry.remote_addr) == (user, STAFF_IP)
    assert entry.additional_data["amount"] == "4.00"

    plan = Plan.objects.create(code="fee", name="Fee plan", monthly_fee=Decimal("49"))
    Tenant.objects.filter(pk=tenant_a.pk).update(
        plan=plan, created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    services.invoices_issue(period=datetime(2026, 3, 1, tzinfo=UTC).date())
    # From the command line or beat: recorded, with no actor and no address.
    issued = audit_events(Event.INVOICES_ISSUED).get()
    assert issued.additional_data["issued"] == 1
    assert issued.additional_data["period"] == "2026-03"
    assert issued.actor is None and issued.remote_addr is None

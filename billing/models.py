"""Billing: model prices, the usage ledger, per-period quota counters, invoices.

Money is `Decimal` end to end. Costs in the ledger keep every digit (a million tokens at a
price with six decimals needs twelve); only invoice lines are rounded, to the cent.
"""

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tenants.models import ApiKey, Tenant

PRICE_FIELD = {"max_digits": 12, "decimal_places": 6}
COST_FIELD = {"max_digits": 24, "decimal_places": 12}
MONEY_FIELD = {"max_digits": 14, "decimal_places": 2}
ANY_MODEL = "*"


def period_start(moment: datetime) -> date:
    """The first day of the (UTC) month that holds `moment`: the key of a billing period."""
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def period_label(period: date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


def period_parse(text) -> date | None:
    """'YYYY-MM' (period_label's form) -> the month's first day; None for anything else."""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text if isinstance(text, str) else "")
    if not match or match[1] == "0000":
        return None
    return date(int(match[1]), int(match[2]), 1)


def period_shift(period: date, months: int) -> date:
    """The first day of the month `months` after (or before, when negative) `period`'s."""
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class ModelPrice(models.Model):
    """The price of one model per million tokens during [valid_from, valid_to)."""

    model = models.CharField(
        max_length=100, help_text=f"Provider model name, or '{ANY_MODEL}' for any other model."
    )
    input_price_per_million = models.DecimalField(**PRICE_FIELD)
    output_price_per_million = models.DecimalField(**PRICE_FIELD)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True, help_text="Empty: still valid.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["model", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["model", "valid_from"], name="modelprice_unique_start"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="modelprice_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(input_price_per_million__gte=0) & Q(output_price_per_million__gte=0),
                name="modelprice_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} from {self.valid_from:%Y-%m-%d %H:%M}"

    def cost(self, *, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """Exact cost of a call at this price (no rounding: the ledger keeps every digit)."""
        return (
            Decimal(prompt_tokens) * self.input_price_per_million
            + Decimal(completion_tokens) * self.output_price_per_million
        ) / Decimal(1_000_000)


class UsagePeriod(models.Model):
    """A tenant's counters for one month: settled usage plus in-flight reservations."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="usage_periods")
    period = models.DateField(help_text="First day of the month.")
    tokens_used = models.PositiveBigIntegerField(default=0)
    tokens_reserved = models.PositiveBigIntegerField(default=0)
    cost_used = models.DecimalField(**COST_FIELD, default=Decimal(0))
    cost_reserved = models.DecimalField(**COST_FIELD, default=Decimal(0))

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period"], name="usageperiod_unique"),
            models.CheckConstraint(
                condition=Q(cost_used__gte=0) & Q(cost_reserved__gte=0),
                name="usageperiod_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {period_label(self.period)}"


class QuotaReservation(models.Model):
    """The worst case of one generation, held against the quota until it settles or is released."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        SETTLED = "settled", "Settled"
        RELEASED = "released", "Released"

    generation_id = models.UUIDField(unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, related_name="+")
    usage_period = models.ForeignKey(UsagePeriod, on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=100)
    tokens = models.PositiveBigIntegerField()
    cost = models.DecimalField(**COST_FIELD)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status="reserved"),
                name="reservation_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.generation_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.RESERVED


class UsageRecord(models.Model):
    """One provider call in the append-only ledger (PostgreSQL refuses UPDATE and DELETE)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    # Keys with usage are revoked, never deleted: the ledger keeps who spent what.
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, null=True, related_name="+")
    generation_id = models.UUIDField(unique=True)
    period = models.DateField(help_text="First day of the month the call was settled in.")
    occurred_at = models.DateTimeField(default=timezone.now)
    model = models.CharField(max_length=100)
    prompt_tokens = models.PositiveIntegerField()
    completion_tokens = models.PositiveIntegerField()
    total_tokens = models.PositiveBigIntegerField()
    input_price_per_million = models.DecimalField(**PRICE_FIELD)
    output_price_per_million = models.DecimalField(**PRICE_FIELD)
    cost = models.DecimalField(**COST_FIELD)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["period", "tenant"], name="usage_period_tenant_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_tokens=F("prompt_tokens") + F("completion_tokens")),
                name="usagerecord_total_is_sum",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="usagerecord_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.total_tokens} tokens"


class UsageAlert(models.Model):
    """A soft alert sent once per tenant, period and threshold (80 or 100 percent)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    threshold = models.PositiveSmallIntegerField()
    measure = models.CharField(max_length=10, help_text="tokens or cost: what crossed it first")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period", "threshold"], name="usagealert_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {period_label(self.period)} {self.threshold}%"


class Invoice(models.Model):
    """An invoice or credit note for one tenant and month; immutable once issued."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    period = models.DateField(help_text="First day of the billed month.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, default="USD")
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    reason = models.CharField(max_length=300, blank=True)
    total_tokens = models.PositiveBigIntegerField(default=0)
    total = models.DecimalField(**MONEY_FIELD, default=Decimal(0))
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "number"]
        constraints = [
            # One invoice per tenant and month: what makes issuing idempotent.
            models.UniqueConstraint(
                fields=["tenant", "period"],
                condition=Q(kind="invoice"),
                name="invoice_one_per_tenant_period",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", corrects__isnull=True)
                | Q(kind="credit_note", corrects__isnull=False, total__lte=0),
                name="invoice_credit_note_corrects_an_invoice",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(issued_at__isnull=False),
                name="invoice_issued_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_issued(self) -> bool:
        """Issued, paid or void: frozen (the database refuses changes but to the status)."""
        return self.status != self.Status.DRAFT

    @property
    def period_label(self) -> str:
        return period_label(self.period)


class InvoiceLine(models.Model):
    """One line of an invoice: the plan fee, one model's usage, or an overage or credit."""

    class Kind(models.TextChoices):
        FEE = "fee", "Plan fee"
        USAGE = "usage", "Usage"
        OVERAGE = "overage", "Overage"
        CREDIT = "credit", "Credit"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=200)
    model = models.CharField(max_length=100, blank=True)
    quantity = models.BigIntegerField(default=1, help_text="Tokens for usage lines, else 1.")
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    amount = models.DecimalField(**MONEY_FIELD)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_position")
        ]

    def __str__(self) -> str:
        return self.description

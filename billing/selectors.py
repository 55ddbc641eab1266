"""Reads for billing. Everything a tenant sees is read through a function that takes the tenant."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from billing.models import ANY_MODEL, Invoice, ModelPrice, UsagePeriod, UsageRecord, period_start
from tenants.models import Tenant


def model_price_at(*, model: str, at: datetime) -> ModelPrice | None:
    """The price of `model` valid at `at`; the '*' price when the model has none of its own."""
    valid = ModelPrice.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=at),
        valid_from__lte=at,
        model__in=[model, ANY_MODEL],
    ).order_by("-valid_from")
    prices = {price.model: price for price in reversed(valid)}  # the latest start wins
    return prices.get(model) or prices.get(ANY_MODEL)


@dataclass(frozen=True)
class DailyUsage:
    day: date
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: Decimal


@dataclass(frozen=True)
class UsageSummary:
    """A tenant's month: settled and reserved usage against its quota and cost cap."""

    period: date
    tokens_used: int
    tokens_reserved: int
    cost_used: Decimal
    cost_reserved: Decimal
    token_quota: int
    cost_cap: Decimal
    by_day: list[DailyUsage]

    @property
    def tokens_remaining(self) -> int:
        return max(0, self.token_quota - self.tokens_used - self.tokens_reserved)

    @property
    def cost_remaining(self) -> Decimal:
        return max(Decimal(0), self.cost_cap - self.cost_used - self.cost_reserved)


def usage_summary(*, tenant: Tenant, period: date | None = None) -> UsageSummary:
    """The tenant's usage for `period` (a month's first day; default: the current month)."""
    period = period_start(timezone.now()) if period is None else period.replace(day=1)
    tenant = Tenant.objects.only("monthly_token_quota", "monthly_cost_cap").get(pk=tenant.pk)
    counters = UsagePeriod.objects.filter(tenant=tenant, period=period).first()
    days = (
        UsageRecord.objects.filter(tenant=tenant, period=period)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            calls=Count("pk"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            total_tokens=Sum("total_tokens"),
            cost=Sum("cost"),
        )
        .order_by("day")
    )
    return UsageSummary(
        period=period,
        tokens_used=counters.tokens_used if counters else 0,
        tokens_reserved=counters.tokens_reserved if counters else 0,
        cost_used=counters.cost_used if counters else Decimal(0),
        cost_reserved=counters.cost_reserved if counters else Decimal(0),
        token_quota=tenant.monthly_token_quota,
        cost_cap=tenant.monthly_cost_cap,
        by_day=[DailyUsage(**row) for row in days],
    )


def usage_by_tenant_and_day(*, since: date, until: date):
    """Staff view: one row per tenant and day in [since, until), summed in SQL."""
    return (
        UsageRecord.objects.filter(occurred_at__date__gte=since, occurred_at__date__lt=until)
        .annotate(day=TruncDate("occurred_at"))
        .values("tenant__name", "tenant__slug", "day")
        .annotate(
            calls=Count("pk"),
            total_tokens=Sum("total_tokens"),
            cost=Sum("cost"),
        )
        .order_by("-day", "tenant__name")
    )


def invoice_list(*, tenant: Tenant):
    """The tenant's issued (or paid, or void) invoices and credit notes; drafts are not shown."""
    return (
        Invoice.objects.filter(tenant=tenant)
        .exclude(status=Invoice.Status.DRAFT)
        .prefetch_related("lines")
        .order_by("-period", "number")
    )


def invoice_get(*, tenant: Tenant, invoice_id) -> Invoice:
    """One of the tenant's issued invoices; another tenant's, or a draft, answers 404."""
    return get_object_or_404(invoice_list(tenant=tenant), pk=invoice_id)

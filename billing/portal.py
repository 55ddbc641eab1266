"""The manager's billing pages (/portal/manage/usage/, /portal/manage/invoices/): own tenant only.

The daily chart is an SVG drawn here on the server: the CSP allows no inline script,
and an SVG's presentation attributes need no inline style either.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache

from billing import selectors
from billing.models import period_label, period_parse, period_shift, period_start
from tenants.portal import manager_required

CHART_WIDTH, CHART_HEIGHT, MARGIN = 720, 240, 40


def usage_chart_svg(*, period: date, by_day) -> SafeString:
    """Daily tokens as bars and daily cost as a line, for every day of the month."""
    days = calendar.monthrange(period.year, period.month)[1]
    tokens = {row.day.day: row.total_tokens for row in by_day}
    costs = {row.day.day: row.cost for row in by_day}
    max_tokens = max(tokens.values(), default=0) or 1
    max_cost = max(costs.values(), default=Decimal(0)) or Decimal(1)
    plot_w, plot_h = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * MARGIN
    slot = plot_w / days
    bars, points = [], []
    for day in range(1, days + 1):
        x = MARGIN + (day - 1) * slot
        height = plot_h * tokens.get(day, 0) / max_tokens
        bars.append(
            (round(x + slot * 0.15, 1), round(MARGIN + plot_h - height, 1),
             round(slot * 0.7, 1), round(height, 1), day, tokens.get(day, 0))
        )  # fmt: skip
        cost_y = MARGIN + plot_h - float(plot_h * costs.get(day, Decimal(0)) / max_cost)
        points.append(f"{x + slot / 2:.1f},{cost_y:.1f}")
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        '<line x1="{m}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/>'
        "{bars}"
        '<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{points}"/>'
        '<text x="{m}" y="20" font-size="12" fill="#1d4e5f">'
        "tokens per day (bars), max {max_tokens}</text>"
        '<text x="{right}" y="20" font-size="12" fill="#c0392b" text-anchor="end">'
        "cost per day (line), max {max_cost}</text>"
        "</svg>",
        w=CHART_WIDTH,
        h=CHART_HEIGHT,
        label=f"Daily tokens and cost, {period:%B %Y}",
        m=MARGIN,
        base=MARGIN + plot_h,
        right=CHART_WIDTH - MARGIN,
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="#1d4e5f">'
            "<title>day {}: {} tokens</title></rect>",
            bars,
        ),
        points=" ".join(points),
        max_tokens=max(tokens.values(), default=0),
        max_cost=max(costs.values(), default=Decimal(0)),
    )


@manager_required
@never_cache
def usage(request):
    period = period_parse(request.GET.get("period"))  # anything else: the current month
    summary = selectors.usage_summary(tenant=request.tenant, period=period)
    current = period_start_today()
    return render(
        request,
        "portal/manage/usage.html",
        {
            "summary": summary,
            "chart": usage_chart_svg(period=summary.period, by_day=summary.by_day),
            "previous": period_label(period_shift(summary.period, -1)),
            "next": (
                period_label(period_shift(summary.period, 1)) if summary.period < current else None
            ),
        },
    )


def period_start_today() -> date:
    return period_start(timezone.now())


@manager_required
@never_cache
def invoice_list(request):
    invoices = selectors.invoice_list(tenant=request.tenant)
    return render(request, "portal/manage/invoices.html", {"invoices": invoices})


@manager_required
@never_cache
def invoice_detail(request, invoice_id):
    invoice = selectors.invoice_get(tenant=request.tenant, invoice_id=invoice_id)
    return render(request, "portal/manage/invoice.html", {"invoice": invoice})

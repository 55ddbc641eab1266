"""Admin for billing: prices, usage by tenant and day, invoices with CSV export.

Plans are administered with tenants (tenants/admin.py).

Prices are added, never edited or deleted; the ledger and issued invoices are read-only
(the database refuses changes anyway). Every write goes through billing.services.
"""

import csv
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from billing import selectors, services
from billing.models import Invoice, InvoiceLine, ModelPrice, UsagePeriod, UsageRecord
from nutrition_pro.exceptions import InvalidInput


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ModelPriceForm(forms.ModelForm):
    class Meta:
        model = ModelPrice
        fields = ["model", "input_price_per_million", "output_price_per_million", "valid_from"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                services.model_price_validate(
                    model=data["model"],
                    input_price_per_million=data["input_price_per_million"],
                    output_price_per_million=data["output_price_per_million"],
                    valid_from=data.get("valid_from"),
                )
            except InvalidInput as error:
                details = error.details or {NON_FIELD_ERRORS: [error.message]}
                raise forms.ValidationError(
                    {
                        field if field in self.fields else NON_FIELD_ERRORS: field_messages
                        for field, field_messages in details.items()
                    }
                ) from error
        return data


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    """A new price closes the model's previous one; existing prices are history, not edited."""

    form = ModelPriceForm
    list_display = [
        "model",
        "input_price_per_million",
        "output_price_per_million",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["model"]
    search_fields = ["model"]

    def has_change_permission(self, request, obj=None):
        return False  # history: a price is viewed, and replaced by adding a new one

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        price = services.model_price_set(
            model=obj.model,
            input_price_per_million=obj.input_price_per_million,
            output_price_per_million=obj.output_price_per_million,
            valid_from=obj.valid_from,
        )
        obj.pk = price.pk
        obj.valid_from = price.valid_from


@admin.register(UsagePeriod)
class UsagePeriodAdmin(ReadOnlyAdmin):
    """Each tenant's monthly counters: settled usage and what is held by calls in flight."""

    list_display = [
        "tenant",
        "period",
        "tokens_used",
        "tokens_reserved",
        "cost_used",
        "cost_reserved",
    ]
    list_filter = ["period"]
    search_fields = ["tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    """The ledger, one row per provider call; and usage summed by tenant and day."""

    change_list_template = "admin/billing/usagerecord/change_list.html"
    list_display = [
        "occurred_at",
        "tenant",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "generation_id",
    ]
    list_filter = ["period", "model"]
    search_fields = ["tenant__name", "tenant__slug", "=generation_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["tenant"]
    show_full_result_count = False

    def get_urls(self):
        return [
            path(
                "by-day/",
                self.admin_site.admin_view(self.by_day_view),
                name="billing_usagerecord_by_day",
            ),
            *super().get_urls(),
        ]

    def by_day_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = max(1, min(366, int(request.GET.get("days", 31))))
        except ValueError:
            days = 31
        until = timezone.now().date() + timedelta(days=1)
        rows = selectors.usage_by_tenant_and_day(since=until - timedelta(days=days), until=until)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Usage by tenant and day (last {days} days)",
            "opts": self.model._meta,
            "rows": rows,
            "days": days,
        }
        return TemplateResponse(request, "admin/billing/usage_by_day.html", context)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "kind",
        "description",
        "model",
        "quantity",
        "prompt_tokens",
        "completion_tokens",
        "amount",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0.01)
    reason = forms.CharField(max_length=300)


CSV_COLUMNS = [
    "number",
    "kind",
    "tenant",
    "tenant_id",
    "period",
    "status",
    "currency",
    "invoice_total",
    "issued_at",
    "line",
    "line_kind",
    "description",
    "model",
    "quantity",
    "prompt_tokens",
    "completion_tokens",
    "amount",
]


def _csv_safe(value) -> str:
    """Keeps spreadsheet programs from running a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Invoices and credit notes: read-only; mark paid, credit, export as CSV."""

    list_display = ["number", "tenant", "period", "kind", "status", "total", "issued_at"]
    list_filter = ["status", "kind", "period"]
    search_fields = ["number", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    inlines = [InvoiceLineInline]
    actions = ["export_csv", "mark_paid"]
    readonly_fields = [
        "number",
        "tenant",
        "kind",
        "period",
        "status",
        "currency",
        "corrects",
        "reason",
        "total_tokens",
        "total",
        "created_at",
        "issued_at",
        "paid_at",
    ]
    change_form_template = "admin/billing/invoice/change_form.html"

    def get_urls(self):
        return [
            path(
                "<uuid:invoice_id>/credit-note/",
                self.admin_site.admin_view(self.credit_note_view),
                name="billing_invoice_credit_note",
            ),
            *super().get_urls(),
        ]

    @admin.action(
        description="Export the selected invoices as CSV (one row per line)",
        permissions=["view"],
    )
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        lines = (
            InvoiceLine.objects.filter(invoice__in=queryset)
            .select_related("invoice__tenant")
            .order_by("invoice__number", "position")
        )
        for line in lines:
            invoice = line.invoice
            row = [
                invoice.number,
                invoice.kind,
                invoice.tenant.name,
                invoice.tenant_id,
                invoice.period_label,
                invoice.status,
                invoice.currency,
                invoice.total,
                invoice.issued_at.isoformat() if invoice.issued_at else "",
                line.position,
                line.kind,
                line.description,
                line.model,
                line.quantity,
                line.prompt_tokens,
                line.completion_tokens,
                line.amount,
            ]
            writer.writerow([_csv_safe(value) for value in row])
        return response

    def has_mark_paid_permission(self, request) -> bool:
        # The model admin is read-only; recording a payment needs the change permission.
        return request.user.has_perm("billing.change_invoice")

    @admin.action(
        description="Mark the selected issued invoices as paid", permissions=["mark_paid"]
    )
    def mark_paid(self, request, queryset):
        paid = 0
        for invoice in queryset.filter(status=Invoice.Status.ISSUED, kind=Invoice.Kind.INVOICE):
            services.invoice_mark_paid(invoice=invoice)
            paid += 1
        self.message_user(request, f"{paid} invoice(s) marked paid.", messages.SUCCESS)

    def credit_note_view(self, request, invoice_id):
        if not request.user.has_perm("billing.add_invoice"):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=invoice_id)
        form = CreditNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                note = services.invoice_credit_note_issue(
                    invoice=invoice,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                )
            except InvalidInput as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Credit note {note.number} issued.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:billing_invoice_change", args=[note.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Credit note for {invoice.number}",
            "opts": self.model._meta,
            "invoice": invoice,
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/credit_note.html", context)

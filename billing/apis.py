"""REST API views of billing: the caller's usage and issued invoices (scope usage:read)."""

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors
from billing.models import period_label, period_parse
from nutrition_pro.pagination import Pagination

USAGE_SCOPES = {"GET": "usage:read"}


@extend_schema_field(OpenApiTypes.STR)
class PeriodField(serializers.Field):
    """A month as YYYY-MM."""

    default_error_messages = {"invalid": "Use a month as YYYY-MM."}

    def to_internal_value(self, data) -> date:
        period = period_parse(data)
        if period is None:
            self.fail("invalid")
        return period

    def to_representation(self, value: date) -> str:
        return period_label(value)


class UsageApi(APIView):
    """The tenant's usage for one month (default: the current one) against its quota."""

    required_scopes = USAGE_SCOPES

    class InputSerializer(serializers.Serializer):
        period = PeriodField(required=False)

    class OutputSerializer(serializers.Serializer):
        class DaySerializer(serializers.Serializer):
            day = serializers.DateField()
            calls = serializers.IntegerField()
            prompt_tokens = serializers.IntegerField()
            completion_tokens = serializers.IntegerField()
            total_tokens = serializers.IntegerField()
            cost = serializers.DecimalField(max_digits=24, decimal_places=6)

        period = PeriodField()
        tokens_used = serializers.IntegerField()
        tokens_reserved = serializers.IntegerField()
        token_quota = serializers.IntegerField()
        tokens_remaining = serializers.IntegerField()
        cost_used = serializers.DecimalField(max_digits=24, decimal_places=6)
        cost_reserved = serializers.DecimalField(max_digits=24, decimal_places=6)
        cost_cap = serializers.DecimalField(max_digits=14, decimal_places=2)
        cost_remaining = serializers.DecimalField(max_digits=24, decimal_places=6)
        by_day = DaySerializer(many=True)

    @extend_schema(
        parameters=[OpenApiParameter("period", str, description="YYYY-MM")],
        responses=OutputSerializer,
    )
    def get(self, request):
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = selectors.usage_summary(
            tenant=request.auth.tenant, period=query.validated_data.get("period")
        )
        return Response(self.OutputSerializer(summary).data)


class InvoiceOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        position = serializers.IntegerField()
        kind = serializers.CharField()
        description = serializers.CharField()
        model = serializers.CharField()
        quantity = serializers.IntegerField()
        prompt_tokens = serializers.IntegerField()
        completion_tokens = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=14, decimal_places=2)

    id = serializers.UUIDField()
    number = serializers.CharField()
    kind = serializers.CharField()
    period = PeriodField()
    status = serializers.CharField()
    currency = serializers.CharField()
    corrects = serializers.UUIDField(source="corrects_id", allow_null=True)
    reason = serializers.CharField()
    total_tokens = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = LineSerializer(many=True)


class InvoiceListApi(APIView):
    """The tenant's issued invoices and credit notes, newest month first (drafts are hidden)."""

    required_scopes = USAGE_SCOPES
    OutputSerializer = InvoiceOutputSerializer

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.invoice_list(tenant=request.auth.tenant), request, view=self
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class InvoiceDetailApi(APIView):
    """One issued invoice with its lines; another tenant's answers 404."""

    required_scopes = USAGE_SCOPES
    OutputSerializer = InvoiceOutputSerializer

    @extend_schema(responses=OutputSerializer)
    def get(self, request, invoice_id):
        invoice = selectors.invoice_get(tenant=request.auth.tenant, invoice_id=invoice_id)
        return Response(self.OutputSerializer(invoice).data)

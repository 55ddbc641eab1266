"""REST API of the content app: dietitians, samples and the original storeContent call."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from content import selectors, services, validation
from content.models import ContentSample, SampleKind
from nutrition_pro.exceptions import InvalidInput
from nutrition_pro.pagination import Pagination
from tenants import selectors as tenant_selectors
from tenants.models import Dietitian

READ = "samples:read"
WRITE = "samples:write"


class TextField(serializers.CharField):
    """A string field that refuses numbers and other JSON types instead of coercing them."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _tenant(request):
    return request.auth.tenant


def _validated(serializer_class, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _paginated(request, view, queryset, output_serializer):
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(output_serializer(page, many=True).data)


# --- dietitians ----------------------------------------------------------------------------


class DietitianOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dietitian
        fields = ["id", "external_ref", "name", "ai_consent", "ai_consent_changed_at", "created_at"]


class DietitianListApi(APIView):
    """The tenant's dietitians; POST adds one."""

    required_scopes = {"GET": READ, "POST": WRITE}

    class InputSerializer(serializers.Serializer):
        external_ref = TextField(max_length=100)
        name = TextField(max_length=200)
        ai_consent = serializers.BooleanField(default=False)

    @extend_schema(responses=DietitianOutputSerializer(many=True))
    def get(self, request):
        dietitians = tenant_selectors.dietitian_list(tenant=_tenant(request))
        return _paginated(request, self, dietitians, DietitianOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: DietitianOutputSerializer})
    def post(self, request):
        data = _validated(self.InputSerializer, request.data)
        dietitian = services.dietitian_create(tenant=_tenant(request), **data)
        return Response(DietitianOutputSerializer(dietitian).data, status=status.HTTP_201_CREATED)


class DietitianDetailApi(APIView):
    """One dietitian of the tenant; PATCH changes name, external_ref or AI consent."""

    required_scopes = {"GET": READ, "PATCH": WRITE}

    class InputSerializer(serializers.Serializer):
        external_ref = TextField(max_length=100, required=False)
        name = TextField(max_length=200, required=False)
        ai_consent = serializers.BooleanField(required=False)

    @extend_schema(responses=DietitianOutputSerializer)
    def get(self, request, dietitian_id):
        dietitian = tenant_selectors.dietitian_get(
            tenant=_tenant(request), dietitian_id=dietitian_id
        )
        return Response(DietitianOutputSerializer(dietitian).data)

    @extend_schema(request=InputSerializer, responses=DietitianOutputSerializer)
    def patch(self, request, dietitian_id):
        dietitian = tenant_selectors.dietitian_get(
            tenant=_tenant(request), dietitian_id=dietitian_id
        )
        data = _validated(self.InputSerializer, request.data, partial=True)
        dietitian = services.dietitian_update(dietitian=dietitian, **data)
        return Response(DietitianOutputSerializer(dietitian).data)


# --- samples -------------------------------------------------------------------------------


class SampleOutputSerializer(serializers.ModelSerializer):
    dietitian = serializers.UUIDField(source="dietitian_id")
    screen = serializers.SerializerMethodField()

    class Meta:
        model = ContentSample
        fields = [
            "id",
            "dietitian",
            "batch_id",
            "kind",
            "title",
            "body",
            "language",
            "status",
            "screen",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema(
        responses=inline_serializer(
            "SampleScreen",
            {
                "score": serializers.FloatField(),
                "reasons": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get_screen(self, sample) -> dict:
        return {"score": sample.screen_score, "reasons": sample.screen_reasons}


def _tenant_dietitian(request, dietitian_id, *, field: str) -> Dietitian:
    """The caller's dietitian named in a body: unknown and foreign ones are the same 400."""
    try:
        return tenant_selectors.dietitian_get(tenant=_tenant(request), dietitian_id=dietitian_id)
    except Http404:
        raise InvalidInput(details={field: ["No such dietitian."]}) from None


class SampleListApi(APIView):
    """The tenant's samples (filter by `dietitian` and `status`); POST adds a screened sample."""

    required_scopes = {"GET": READ, "POST": WRITE}

    class FilterSerializer(serializers.Serializer):
        dietitian = serializers.UUIDField(required=False)
        status = serializers.ChoiceField(choices=ContentSample.Status.choices, required=False)

    class InputSerializer(serializers.Serializer):
        dietitian = serializers.UUIDField()
        body = TextField(trim_whitespace=False)
        title = TextField(required=False, allow_blank=True, default="")
        kind = serializers.ChoiceField(choices=SampleKind.choices, default=SampleKind.OTHER)
        language = TextField(required=False, default="en")

    @extend_schema(
        parameters=[
            OpenApiParameter("dietitian", str, description="a dietitian id"),
            OpenApiParameter("status", str, enum=ContentSample.Status.values),
        ],
        responses=SampleOutputSerializer(many=True),
    )
    def get(self, request):
        filters = _validated(self.FilterSerializer, request.query_params)
        samples = selectors.sample_list(
            tenant=_tenant(request),
            dietitian_id=filters.get("dietitian"),
            status=filters.get("status"),
        )
        return _paginated(request, self, samples, SampleOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: SampleOutputSerializer})
    def post(self, request):
        data = _validated(self.InputSerializer, request.data)
        data["dietitian"] = _tenant_dietitian(request, data["dietitian"], field="dietitian")
        sample = services.sample_create(tenant=_tenant(request), **data)
        return Response(SampleOutputSerializer(sample).data, status=status.HTTP_201_CREATED)


class SampleDetailApi(APIView):
    """One sample of the tenant; PATCH re-screens changed text; DELETE removes it."""

    required_scopes = {"GET": READ, "PATCH": WRITE, "DELETE": WRITE}

    class InputSerializer(serializers.Serializer):
        body = TextField(required=False, trim_whitespace=False)
        title = TextField(required=False, allow_blank=True)
        kind = serializers.ChoiceField(choices=SampleKind.choices, required=False)
        language = TextField(required=False)

    @extend_schema(responses=SampleOutputSerializer)
    def get(self, request, sample_id):
        sample = selectors.sample_get(tenant=_tenant(request), sample_id=sample_id)
        return Response(SampleOutputSerializer(sample).data)

    @extend_schema(request=InputSerializer, responses=SampleOutputSerializer)
    def patch(self, request, sample_id):
        sample = selectors.sample_get(tenant=_tenant(request), sample_id=sample_id)
        data = _validated(self.InputSerializer, request.data, partial=True)
        sample = services.sample_update(sample=sample, **data)
        return Response(SampleOutputSerializer(sample).data)

    @extend_schema(responses={204: None})
    def delete(self, request, sample_id):
        sample = selectors.sample_get(tenant=_tenant(request), sample_id=sample_id)
        services.sample_delete(sample=sample)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- storeContent --------------------------------------------------------------------------

# The original integration's "type" values, and the sample kinds they store as.
STORE_CONTENT_TYPES = {
    "introduction": SampleKind.DIET_INTRODUCTION,
    "diet_introduction": SampleKind.DIET_INTRODUCTION,
    "meal_plan_summary": SampleKind.MEAL_PLAN_SUMMARY,
    "recipe_description": SampleKind.RECIPE_DESCRIPTION,
    "other": SampleKind.OTHER,
}


class StoreContentInputSerializer(serializers.Serializer):
    """{"type", "dietitian-uuid", "client-uuid", "content": [..]} (hyphenated keys)."""

    def get_fields(self):
        return {
            "type": serializers.ChoiceField(choices=sorted(STORE_CONTENT_TYPES)),
            "dietitian-uuid": serializers.UUIDField(),
            "client-uuid": serializers.UUIDField(),
            "content": serializers.ListField(
                child=TextField(trim_whitespace=False, allow_blank=True),
                allow_empty=False,
                max_length=validation.BATCH_MAX_ITEMS,
            ),
        }


class StoreContentApi(APIView):
    """The original integration call: one sample per text, all under one returned samples-uuid."""

    required_scopes = {"POST": WRITE}

    @extend_schema(
        request=StoreContentInputSerializer,
        responses={
            201: inline_serializer("StoreContentOutput", {"samples-uuid": serializers.UUIDField()})
        },
    )
    def post(self, request):
        data = _validated(StoreContentInputSerializer, request.data)
        tenant = _tenant(request)
        if data["client-uuid"] != tenant.pk:
            raise InvalidInput(details={"client-uuid": ["This is not your client-uuid."]})
        dietitian = _tenant_dietitian(request, data["dietitian-uuid"], field="dietitian-uuid")
        batch_id = services.sample_store_batch(
            tenant=tenant,
            dietitian=dietitian,
            kind=STORE_CONTENT_TYPES[data["type"]],
            contents=data["content"],
        )
        return Response({"samples-uuid": str(batch_id)}, status=status.HTTP_201_CREATED)

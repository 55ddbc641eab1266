"""REST API of the generation pipeline: POST to ask for a text, GET to fetch it."""

import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from content.screening import UnsafeText, normalize_text
from llm import selectors, services
from llm.models import GenerationKind, GenerationRequest
from nutrition_pro.exceptions import InvalidInput
from nutrition_pro.pagination import Pagination

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
LANGUAGE = re.compile(r"^[a-z]{2}(?:-[A-Z]{2})?$")


def _no_control_characters(value: str) -> None:
    try:
        normalize_text(value)
    except UnsafeText as error:
        raise serializers.ValidationError(str(error)) from None


def _short_texts(max_items: int, max_length: int):
    return serializers.ListField(
        child=serializers.CharField(
            max_length=max_length, trim_whitespace=True, validators=[_no_control_characters]
        ),
        max_length=max_items,
        required=False,
        default=list,
    )


class GenerationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    dietitian = serializers.UUIDField(source="dietitian_id")
    kind = serializers.CharField()
    inputs = serializers.JSONField()
    sample_ids = serializers.ListField(child=serializers.UUIDField())
    output = serializers.SerializerMethodField()
    offline = serializers.BooleanField(source="is_offline")
    provider = serializers.CharField()
    model = serializers.CharField()
    prompt_version = serializers.CharField()
    attempts = serializers.IntegerField()
    error = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    latency_ms = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_output(self, generation: GenerationRequest) -> str | None:
        # Only a text that passed every guard is ever returned.
        if generation.status != GenerationRequest.Status.SUCCEEDED:
            return None
        return generation.response

    def get_error(self, generation: GenerationRequest) -> dict | None:
        if not generation.error_code:
            return None
        return {"code": generation.error_code, "message": generation.error_message}

    def get_usage(self, generation: GenerationRequest) -> dict:
        return {
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
        }


class GenerationListCreateApi(APIView):
    """Ask for a text (202, queued) or list the tenant's requests."""

    required_scopes = {"GET": "generations:read", "POST": "generations:create"}

    class InputSerializer(serializers.Serializer):
        class InputsSerializer(serializers.Serializer):
            goals = _short_texts(10, 200)
            dietary_preferences = _short_texts(10, 100)
            allergies = _short_texts(20, 60)
            language = serializers.RegexField(LANGUAGE, required=False, default="en")
            length = serializers.ChoiceField(
                ["short", "medium", "long"], required=False, default="medium"
            )
            daily_calorie_target = serializers.IntegerField(
                min_value=500, max_value=6000, required=False
            )
            clinical_supervision = serializers.BooleanField(required=False, default=False)
            notes = serializers.CharField(
                max_length=1000,
                required=False,
                allow_blank=True,
                default="",
                validators=[_no_control_characters],
            )

            def validate(self, attrs):
                target = attrs.get("daily_calorie_target")
                floor = settings.LLM_MIN_DAILY_KCAL
                if target is not None and target < floor and not attrs["clinical_supervision"]:
                    raise serializers.ValidationError(
                        {
                            "daily_calorie_target": [
                                f"Below {floor} kcal needs clinical_supervision."
                            ]
                        }
                    )
                return attrs

        dietitian = serializers.UUIDField()
        kind = serializers.ChoiceField(GenerationKind.choices)
        inputs = InputsSerializer(required=False, default=dict)
        sample_ids = serializers.ListField(
            child=serializers.UUIDField(), max_length=10, required=False, default=list
        )

        def validate(self, attrs):
            # Unknown fields are refused, not ignored: a typo must not pass silently.
            unknown = {
                name: ["Unknown field."] for name in self.initial_data if name not in self.fields
            }
            raw_inputs = self.initial_data.get("inputs")
            if isinstance(raw_inputs, dict):
                known = self.fields["inputs"].fields
                unknown.update(
                    {
                        f"inputs.{name}": ["Unknown field."]
                        for name in raw_inputs
                        if name not in known
                    }
                )
            if unknown:
                raise serializers.ValidationError(unknown)
            return attrs

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(GenerationRequest.Status.choices, required=False)
        dietitian = serializers.UUIDField(required=False)
        kind = serializers.ChoiceField(GenerationKind.choices, required=False)

    @extend_schema(
        request=InputSerializer,
        responses={202: GenerationOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not IDEMPOTENCY_KEY.match(key):
            raise InvalidInput(
                details={"Idempotency-Key": ["1 to 255 printable ASCII characters."]}
            )
        data = serializer.validated_data
        inputs = dict(data["inputs"])
        notes = inputs.pop("notes", "")
        created = services.generation_request(
            api_key=request.auth,
            dietitian_id=data["dietitian"],
            kind=data["kind"],
            inputs=inputs,
            notes=notes,
            sample_ids=data["sample_ids"],
            idempotency_key=key,
        )
        response = Response(
            GenerationOutputSerializer(created.generation).data, status=status.HTTP_202_ACCEPTED
        )
        response["Location"] = f"/api/v1/generations/{created.generation.pk}/"
        if created.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(parameters=[FilterSerializer], responses=GenerationOutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.generation_list(
            tenant=request.auth.tenant, filters=filters.validated_data
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(GenerationOutputSerializer(page, many=True).data)


class GenerationDetailApi(APIView):
    """One request of the caller's tenant: its status, and its text once it succeeded."""

    required_scopes = {"GET": "generations:read"}

    @extend_schema(responses=GenerationOutputSerializer)
    def get(self, request, generation_id):
        generation = selectors.generation_get(
            tenant=request.auth.tenant, generation_id=generation_id
        )
        return Response(GenerationOutputSerializer(generation).data)

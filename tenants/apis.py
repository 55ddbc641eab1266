"""REST API views of the tenants app."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.permissions import ANY_SCOPE


class MeApi(APIView):
    """The caller's tenant, key and limits."""

    required_scopes = {"GET": ANY_SCOPE}

    class OutputSerializer(serializers.Serializer):
        class TenantSerializer(serializers.Serializer):
            id = serializers.UUIDField()
            name = serializers.CharField()
            slug = serializers.CharField()
            status = serializers.CharField()

        class KeySerializer(serializers.Serializer):
            prefix = serializers.CharField()
            name = serializers.CharField()
            scopes = serializers.ListField(child=serializers.CharField())
            expires_at = serializers.DateTimeField(allow_null=True)

        class LimitsSerializer(serializers.Serializer):
            requests_per_minute = serializers.IntegerField()
            monthly_token_quota = serializers.IntegerField()
            monthly_cost_cap = serializers.DecimalField(max_digits=12, decimal_places=2)
            max_queued_generations = serializers.IntegerField()

        tenant = TenantSerializer()
        key = KeySerializer()
        limits = LimitsSerializer()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        api_key = request.auth
        tenant = api_key.tenant
        data = {"tenant": tenant, "key": api_key, "limits": tenant}
        return Response(self.OutputSerializer(data).data)

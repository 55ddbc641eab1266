"""The real routes plus a tenant-scoped probe with an object in its URL, to test the matrix."""

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from nutrition_pro.urls import urlpatterns as real_urlpatterns
from tenants.selectors import dietitian_get


class DietitianProbeApi(APIView):
    required_scopes = {"GET": "samples:read", "PATCH": "samples:write"}

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        name = serializers.CharField()

    def get(self, request, dietitian_id):
        dietitian = dietitian_get(tenant=request.user.tenant, dietitian_id=dietitian_id)
        return Response(self.OutputSerializer(dietitian).data)

    def patch(self, request, dietitian_id):
        dietitian = dietitian_get(tenant=request.user.tenant, dietitian_id=dietitian_id)
        return Response(self.OutputSerializer(dietitian).data)


class UndeclaredProbeApi(APIView):
    required_scopes = {"GET": "usage:read"}

    def get(self, request):
        return Response({})


urlpatterns = [
    path("api/v1/probe/dietitians/<uuid:dietitian_id>/", DietitianProbeApi.as_view()),
    path("api/v1/probe/undeclared/", UndeclaredProbeApi.as_view()),
    *real_urlpatterns,
]

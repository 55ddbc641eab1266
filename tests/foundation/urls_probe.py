"""The real routes plus two probe views that exercise the error plumbing (validation, a crash)."""

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from nutrition_pro.urls import urlpatterns as real_urlpatterns
from tenants.permissions import ANY_SCOPE


class EchoApi(APIView):
    required_scopes = {"POST": ANY_SCOPE}

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=10)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class CrashApi(APIView):
    required_scopes = {"GET": ANY_SCOPE}

    def get(self, request):
        raise RuntimeError("database password is hunter2 at /srv/secret/path")


class ForgetfulApi(APIView):
    """Declares no scope: must be refused for every caller."""

    def get(self, request):
        return Response({"leaked": True})


urlpatterns = [
    path("api/v1/probe/echo/", EchoApi.as_view()),
    path("api/v1/probe/crash/", CrashApi.as_view()),
    path("api/v1/probe/forgetful/", ForgetfulApi.as_view()),
    *real_urlpatterns,
]
handler404 = "nutrition_pro.errors.not_found"
handler500 = "nutrition_pro.errors.server_error"

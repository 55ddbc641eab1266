"""A diagnostic for the api_auth benchmark: the floor plus the service's API-key check and
rate limits, and nothing else of the service.

The project's settings and code, but no middleware and no DRF view: one plain Django view
authenticates the key (`ApiKeyAuthentication`, the cached path) and counts the request
against both limits and the usage counters (`record_request`, one Redis pipeline), then
answers a small JSON body. Between the floor and `/api/v1/me/` it tells how much of the
difference is authentication and limits, and how much is the rest of the stack
(middleware, DRF, the serializer). Never served outside the benchmark.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nutrition_pro.settings")

import django
from django.conf import settings

django.setup()
settings.MIDDLEWARE = []
settings.ROOT_URLCONF = __name__

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.request import Request  # noqa: E402

from tenants.authentication import ApiKeyAuthentication  # noqa: E402
from tenants.network import client_ip  # noqa: E402
from tenants.throttling import record_request  # noqa: E402

_authentication = ApiKeyAuthentication()


def authenticated_floor(request):
    _client, api_key = _authentication.authenticate(Request(request))
    outcome = record_request(api_key=api_key, ip=client_ip(request))
    return JsonResponse({"tenant": str(api_key.tenant_id), "limited": outcome.limited})


def ready(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("auth-floor/", authenticated_floor), path("ready/", ready)]
application = get_wsgi_application()

"""The floor of the API benchmarks, as the design defines it: plain Django on the same Redis.

A WSGI application with Django's defaults and nothing of ours: no middleware, no
authentication, one view that makes one round trip to Redis through Django's cache (the
same backend and server as the service) and answers a small JSON body. The api_auth bench
serves it with the same gunicorn settings as the service, so the ratio of the two rates is
the cost of everything an authenticated API request adds to a Redis round trip.
"""

import os

import django
from django.conf import settings
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-floor-only-not-a-secret",  # noqa: S106 - serves nothing but this view
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    },
)
django.setup()


def floor(request):
    return JsonResponse({"cached": cache.get("bench:floor")})


urlpatterns = [path("floor/", floor)]
application = get_wsgi_application()

"""Django-level error views: JSON envelope under /api/, Django's pages elsewhere."""

from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from nutrition_pro.exceptions import envelope_response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return envelope_response(404, "not_found", "No such API route.")


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return envelope_response(500, "internal_error", "An internal error occurred.")
    return defaults.server_error(request)

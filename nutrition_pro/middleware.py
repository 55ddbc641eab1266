"""Cross-cutting request middleware: request ids and the API body-size limit."""

import re
import uuid

from django.conf import settings

from nutrition_pro.exceptions import envelope_response
from nutrition_pro.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


class RequestIdMiddleware:
    """Tags each request (and the logs and tasks it causes) with an id, echoed in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ApiRequestGuardMiddleware:
    """Checks an API body before anything reads it: JSON only (415), size limit (413)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                return envelope_response(
                    413,
                    "payload_too_large",
                    f"The request body exceeds {settings.API_MAX_BODY_BYTES} bytes.",
                    {"max_bytes": settings.API_MAX_BODY_BYTES},
                )
            content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            if length > 0 and content_type != "application/json":
                return envelope_response(
                    415,
                    "unsupported_media_type",
                    "Send the request body as JSON (Content-Type: application/json).",
                )
        return self.get_response(request)

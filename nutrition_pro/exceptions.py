"""One error shape for the whole API: {"error": {"code", "message", "details"}}.

Services raise `ServiceError` subclasses; DRF's and Django's own exceptions are mapped
here too, so views never build error bodies by hand.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A business rule refused the operation; carries its HTTP status and error code."""

    status_code = 400
    code = "invalid_request"
    default_message = "The request was refused."

    def __init__(self, message: str | None = None, *, details: dict | None = None, headers=None):
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidInput(ServiceError):
    status_code = 400
    code = "validation_error"
    default_message = "The request is not valid."


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class TooManyRequests(ServiceError):
    status_code = 429
    code = "rate_limited"
    default_message = "Too many requests."


class PayloadTooLarge(drf.APIException):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


_DRF_CODES = {
    drf.ValidationError: "validation_error",
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
    PayloadTooLarge: "payload_too_large",
}

_MESSAGES = {
    "validation_error": "The request is not valid.",
    "not_found": "Not found.",
}


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def envelope_response(status: int, code: str, message: str, details: dict | None = None):
    """A plain Django JSON response in the envelope, for code outside DRF views."""
    return JsonResponse(envelope(code, message, details), status=status)


def _validation_details(detail) -> dict:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def envelope_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every error from an API view leaves in the envelope."""
    if isinstance(exc, ServiceError):
        response = Response(envelope(exc.code, exc.message, exc.details), status=exc.status_code)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )

    if isinstance(exc, drf.APIException):
        code = next(
            (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)),
            exc.default_code if isinstance(exc.default_code, str) else "error",
        )
        if isinstance(exc, drf.ValidationError):
            message, details = _MESSAGES["validation_error"], _validation_details(exc.detail)
        else:
            message, details = str(exc.detail), {}
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            details = {"retry_after_seconds": int(exc.wait + 0.999)}
        response = Response(envelope(code, message, details), status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            response["Retry-After"] = str(int(exc.wait + 0.999))
        return response

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    return Response(
        envelope("internal_error", "An internal error occurred. It has been logged."),
        status=500,
    )

"""Scope permission, the default for every API view: a view that declares no scope is refused."""

from rest_framework import exceptions, permissions

ANY_SCOPE = "*"


class ScopePermission(permissions.BasePermission):
    """Admits a valid key of an active tenant whose scopes include the one the view declares.

    A view declares `required_scopes`, a mapping of HTTP method to scope (or ANY_SCOPE).
    A method missing from the mapping, or a view without it, is refused: deny by default.
    """

    message = "This API key lacks the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if api_key is None or not getattr(request.user, "is_authenticated", False):
            raise exceptions.NotAuthenticated()
        if not hasattr(view, request.method.lower()):
            return True  # not implemented: DRF answers 405 after the checks
        declared = getattr(view, "required_scopes", None)
        if not declared:
            return False
        scope = declared.get(request.method)
        if scope is None and request.method in ("HEAD", "OPTIONS"):
            scope = declared.get("GET")
        if scope is None:
            return False
        if not api_key.tenant.is_active:
            raise exceptions.PermissionDenied("This tenant is suspended.")
        return scope == ANY_SCOPE or scope in api_key.scopes

"""Machinery of the status matrix: enumerate API routes from the URL resolver, play each case.

A route is described by a `Route`: the scope of each HTTP method it implements and, for a
route that names an object, a function that creates such an object for a given tenant and
returns the URL's keyword arguments. `check(...)` plays one case against one route and method.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tenants import services
from tenants.keys import generate_key
from tenants.models import ALL_SCOPES, Tenant
from tenants.permissions import ANY_SCOPE
from tests.conftest import client_for

API_PREFIX = "api/v1/"
IGNORED_METHODS = {"OPTIONS", "HEAD"}


@dataclass(frozen=True)
class Route:
    """What the contract says about one route: method -> scope, and how to name an object."""

    scopes: dict[str, str]
    # make_object(tenant, dietitian) -> URL kwargs of a new object owned by that tenant.
    make_object: Callable | None = None
    body: dict = field(default_factory=dict)


CASES_401 = ["no_key", "malformed_key", "bad_checksum", "unknown_key", "expired", "revoked"]
CASES = [*CASES_401, "rotated_after_grace", "suspended_tenant", "missing_scope", "allowed"]
OBJECT_CASES = ["other_tenants_object"]


def api_routes(urlconf=None) -> dict[str, URLPattern]:
    """Every concrete route under /api/v1/, keyed by its full pattern ('api/v1/me/')."""
    found: dict[str, URLPattern] = {}

    def walk(patterns, prefix):
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
            elif text.lstrip("^").startswith(API_PREFIX):
                found[text] = pattern

    walk(get_resolver(urlconf).url_patterns, "")
    return found


def implemented_methods(pattern: URLPattern) -> set[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)  # DRF viewsets routed by a router
    if actions:
        return {method.upper() for method in actions} - IGNORED_METHODS
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return {"GET", "POST", "PUT", "PATCH", "DELETE"}  # a function view: describe it all
    return {
        method.upper()
        for method in view_class.http_method_names
        if hasattr(view_class, method) and method.upper() not in IGNORED_METHODS
    }


def undescribed(matrix: dict[str, Route], urlconf=None) -> list[str]:
    """Routes (and methods) the matrix does not describe, and matrix rows with no route."""
    problems = []
    routes = api_routes(urlconf)
    for text, pattern in sorted(routes.items()):
        if text not in matrix:
            problems.append(f"route {text!r} is not in the status matrix")
            continue
        methods = implemented_methods(pattern)
        if methods != set(matrix[text].scopes):
            problems.append(
                f"route {text!r} implements {sorted(methods)}, "
                f"the matrix describes {sorted(matrix[text].scopes)}"
            )
    problems += [f"matrix row {text!r} has no route" for text in matrix if text not in routes]
    return problems


def case_ids(matrix: dict[str, Route]) -> list[tuple[str, str, str]]:
    ids = []
    for text, route in matrix.items():
        for method in sorted(route.scopes):
            for case in CASES + (OBJECT_CASES if route.make_object else []):
                ids.append((text, method, case))
    return ids


def _path(text: str, kwargs: dict) -> str:
    def value(match):
        return str(kwargs[match.group("name")])

    return "/" + re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, text.lstrip("^"))


def _send(client, method, path, body):
    if method in ("POST", "PUT", "PATCH"):
        return client.generic(method, path, data=_json(body), content_type="application/json")
    return client.generic(method, path)


def _json(body):
    import json

    return json.dumps(body)


def check(matrix, text, method, case, *, tenant, other, dietitian, other_dietitian, time_machine):
    """Plays one case; returns (response, expected status)."""
    route = matrix[text]
    scope = route.scopes[method]
    kwargs = route.make_object(tenant, dietitian) if route.make_object else {}
    path = _path(text, kwargs)

    def key(scopes=None, **extra):
        return services.api_key_issue(
            tenant=tenant, name="matrix", scopes=scopes or list(ALL_SCOPES), **extra
        )

    if case == "no_key":
        return _send(client_for(None), method, path, route.body), 401
    if case == "malformed_key":
        return _send(client_for("np_short_key"), method, path, route.body), 401
    if case == "bad_checksum":
        plaintext = key().plaintext
        tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
        return _send(client_for(tampered), method, path, route.body), 401
    if case == "unknown_key":
        return _send(client_for(generate_key()[0]), method, path, route.body), 401
    if case == "expired":
        issued = key(expires_at=timezone.now() + timedelta(minutes=5))
        time_machine.move_to(timezone.now() + timedelta(minutes=6))
        return _send(client_for(issued.plaintext), method, path, route.body), 401
    if case == "revoked":
        issued = key()
        services.api_key_revoke(api_key=issued.api_key)
        return _send(client_for(issued.plaintext), method, path, route.body), 401
    if case == "rotated_after_grace":
        old = key()
        new = services.api_key_rotate(api_key=old.api_key, grace=timedelta(hours=1))
        time_machine.move_to(timezone.now() + timedelta(hours=1, seconds=1))
        response = _send(client_for(old.plaintext), method, path, route.body)
        # The successor works where the old key no longer does.
        successor = _send(client_for(new.plaintext), method, path, route.body)
        assert successor.status_code not in (401, 403), successor.content
        return response, 401
    if case == "suspended_tenant":
        issued = key()
        services.tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
        return _send(client_for(issued.plaintext), method, path, route.body), 403
    if case == "missing_scope":
        if scope == ANY_SCOPE:
            # Any valid key will do: the narrowest key is admitted.
            return _send(client_for(key([ALL_SCOPES[0]]).plaintext), method, path, route.body), 0
        others = [s for s in ALL_SCOPES if s != scope]
        return _send(client_for(key(others).plaintext), method, path, route.body), 403
    if case == "allowed":
        scopes = None if scope == ANY_SCOPE else [scope]
        return _send(client_for(key(scopes).plaintext), method, path, route.body), 0
    if case == "other_tenants_object":
        other_kwargs = route.make_object(other, other_dietitian)
        issued = key(None if scope == ANY_SCOPE else [scope])
        response = _send(
            client_for(issued.plaintext), method, _path(text, other_kwargs), route.body
        )
        return response, 404
    raise AssertionError(f"unknown case {case}")

"""The status matrix (threat T2): every route under /api/v1/ against every refusal.

MATRIX describes each route of the product: the scope of each method it implements and, for
a route naming an object, how to create one for a tenant. The first test enumerates the URL
resolver and fails for any route or method the matrix does not describe, so a new route
without a row breaks the suite. Add a row for every new route; the cases run automatically:
no key, malformed key, bad checksum, unknown, expired, revoked, rotated after grace (401);
suspended tenant, missing scope (403); another tenant's object (404); and a control request
with exactly the declared scope that must be admitted.
"""

import pytest

from tenants.permissions import ANY_SCOPE

from .matrix import Route, case_ids, check, undescribed

MATRIX: dict[str, Route] = {
    "api/v1/me/": Route(scopes={"GET": ANY_SCOPE}),
}


def test_every_api_route_is_described_in_the_matrix():
    assert undescribed(MATRIX) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method", "case"), case_ids(MATRIX))
def test_status(
    route, method, case, settings, tenant_a, tenant_b, dietitian_a, dietitian_b, time_machine
):
    settings.API_AUTH_FAILURES_PER_MINUTE = 10_000  # this suite fails on purpose, a lot
    response, expected = check(
        MATRIX,
        route,
        method,
        case,
        tenant=tenant_a,
        other=tenant_b,
        dietitian=dietitian_a,
        other_dietitian=dietitian_b,
        time_machine=time_machine,
    )
    assert_status(response, expected)


def assert_status(response, expected: int) -> None:
    body = response.json()
    if expected == 0:  # admitted: whatever the operation answers, it is not a refusal
        assert response.status_code not in (401, 403, 404, 405), response.content
        assert response.status_code < 500, response.content
        return
    assert response.status_code == expected, response.content
    assert set(body) == {"error"}
    if expected == 401:
        assert response["WWW-Authenticate"] == "Bearer"

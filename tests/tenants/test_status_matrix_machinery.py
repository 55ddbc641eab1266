"""The matrix machinery itself: it catches undescribed routes and plays scoped object routes."""

import pytest

from tenants.permissions import ANY_SCOPE

from .matrix import Route, case_ids, check, undescribed
from .test_status_matrix import MATRIX, assert_status

PROBE_URLS = "tests.tenants.urls_matrix_probe"
DIETITIAN_ROUTE = "api/v1/probe/dietitians/<uuid:dietitian_id>/"
PROBE_MATRIX = {
    **MATRIX,
    DIETITIAN_ROUTE: Route(
        scopes={"GET": "samples:read", "PATCH": "samples:write"},
        make_object=lambda tenant, dietitian: {"dietitian_id": dietitian.id},
        body={"name": "renamed"},
    ),
    "api/v1/probe/undeclared/": Route(scopes={"GET": "usage:read"}),
}


def test_a_route_missing_from_the_matrix_is_reported():
    problems = undescribed(MATRIX, urlconf=PROBE_URLS)
    assert f"route {DIETITIAN_ROUTE!r} is not in the status matrix" in problems
    assert "route 'api/v1/probe/undeclared/' is not in the status matrix" in problems


def test_a_method_missing_from_a_row_and_a_stale_row_are_reported():
    matrix = {
        **PROBE_MATRIX,
        DIETITIAN_ROUTE: Route(scopes={"GET": "samples:read"}),
        "api/v1/gone/": Route(scopes={"GET": ANY_SCOPE}),
    }
    problems = undescribed(matrix, urlconf=PROBE_URLS)
    assert any("implements ['GET', 'PATCH']" in problem for problem in problems)
    assert "matrix row 'api/v1/gone/' has no route" in problems


def test_the_probe_matrix_is_complete():
    assert undescribed(PROBE_MATRIX, urlconf=PROBE_URLS) == []


@pytest.mark.urls(PROBE_URLS)
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "method", "case"),
    [case for case in case_ids(PROBE_MATRIX) if case[0] != "api/v1/me/"],
)
def test_probe_status(
    route, method, case, settings, tenant_a, tenant_b, dietitian_a, dietitian_b, time_machine
):
    settings.API_AUTH_FAILURES_PER_MINUTE = 10_000
    response, expected = check(
        PROBE_MATRIX,
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

"""The status matrix (threat T2): every route under /api/v1/ against every refusal.

MATRIX describes each route of the product: the scope of each method it implements and, for
a route naming an object, how to create one for a tenant. The first test enumerates the URL
resolver and fails for any route or method the matrix does not describe, so a new route
without a row breaks the suite. Add a row for every new route; the cases run automatically:
no key, malformed key, bad checksum, unknown, expired, revoked, rotated after grace (401);
suspended tenant, missing scope (403); another tenant's object (404); and a control request
with exactly the declared scope that must be admitted.
"""

from datetime import date

import pytest
from django.utils import timezone

from billing.models import Invoice
from content.models import ContentSample
from tenants.permissions import ANY_SCOPE

from .matrix import Route, case_ids, check, undescribed


def make_invoice(tenant, dietitian) -> dict:
    """An issued invoice of the tenant (issuing freezes it, so it is built then issued)."""
    invoice = Invoice.objects.create(
        tenant=tenant, number=f"INV-MATRIX-{tenant.slug}", period=date(2026, 1, 1)
    )
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", issued_at=timezone.now())
    return {"invoice_id": invoice.pk}


def make_sample(tenant, dietitian) -> dict:
    sample = ContentSample.objects.create(
        tenant=tenant, dietitian=dietitian, body="Porridge with pears.", status="approved"
    )
    return {"sample_id": sample.pk}


def dietitian_kwargs(tenant, dietitian) -> dict:
    return {"dietitian_id": dietitian.pk}


MATRIX: dict[str, Route] = {
    "api/v1/me/": Route(scopes={"GET": ANY_SCOPE}),
    "api/v1/dietitians/": Route(
        scopes={"GET": "samples:read", "POST": "samples:write"},
        body={"external_ref": "matrix-new", "name": "New Dietitian", "ai_consent": True},
    ),
    "api/v1/dietitians/<uuid:dietitian_id>/": Route(
        scopes={"GET": "samples:read", "PATCH": "samples:write"},
        make_object=dietitian_kwargs,
        body={"name": "Renamed"},
    ),
    "api/v1/samples/": Route(scopes={"GET": "samples:read", "POST": "samples:write"}),
    "api/v1/samples/<uuid:sample_id>/": Route(
        scopes={"GET": "samples:read", "PATCH": "samples:write", "DELETE": "samples:write"},
        make_object=make_sample,
        body={"title": "Renamed"},
    ),
    "api/v1/storeContent": Route(scopes={"POST": "samples:write"}),
    "api/v1/usage/": Route(scopes={"GET": "usage:read"}),
    "api/v1/invoices/": Route(scopes={"GET": "usage:read"}),
    "api/v1/invoices/<uuid:invoice_id>/": Route(
        scopes={"GET": "usage:read"}, make_object=make_invoice
    ),
}


# --- llm: generations (issue 5) ---
def _generation(tenant, dietitian):
    from llm.models import GenerationRequest

    generation = GenerationRequest.objects.create(
        tenant=tenant, dietitian=dietitian, kind="diet_introduction"
    )
    return {"generation_id": generation.pk}


MATRIX.update(
    {
        "api/v1/generations/": Route(
            scopes={"GET": "generations:read", "POST": "generations:create"}
        ),
        "api/v1/generations/<uuid:generation_id>/": Route(
            scopes={"GET": "generations:read"}, make_object=_generation
        ),
    }
)


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
    if expected == 0:  # admitted: whatever the operation answers, it is not a refusal
        assert response.status_code not in (401, 403, 404, 405), response.content
        assert response.status_code < 500, response.content
        return
    assert response.status_code == expected, response.content
    assert set(response.json()) == {"error"}
    if expected == 401:
        assert response["WWW-Authenticate"] == "Bearer"

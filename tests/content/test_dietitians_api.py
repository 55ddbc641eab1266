"""The dietitians API: the tenant's dietitians, consent with its time, isolation."""

import pytest

from tenants.models import Dietitian

pytestmark = pytest.mark.django_db


def test_it_creates_and_lists_dietitians(api_a, dietitian_a):
    response = api_a.post(
        "/api/v1/dietitians/", {"external_ref": "d-7", "name": "Ines", "ai_consent": True}
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["ai_consent"] is True
    assert created["ai_consent_changed_at"] is not None
    names = [d["name"] for d in api_a.get("/api/v1/dietitians/").json()["results"]]
    assert names == ["Dana Alpha", "Ines"]


def test_external_ref_is_unique_per_tenant_only(api_a, api_b, dietitian_a):
    again = api_a.post("/api/v1/dietitians/", {"external_ref": "d-a-1", "name": "Copy"})
    assert again.status_code == 400
    assert "external_ref" in again.json()["error"]["details"]
    other_tenant = api_b.post("/api/v1/dietitians/", {"external_ref": "d-a-1", "name": "Same"})
    assert other_tenant.status_code == 201


def test_withdrawing_consent_records_when(api_a, dietitian_a):
    url = f"/api/v1/dietitians/{dietitian_a.pk}/"
    response = api_a.patch(url, {"ai_consent": False})
    assert response.status_code == 200
    assert response.json()["ai_consent"] is False
    dietitian_a.refresh_from_db()
    assert dietitian_a.ai_consent is False
    assert dietitian_a.ai_consent_changed_at is not None
    first = dietitian_a.ai_consent_changed_at

    api_a.patch(url, {"name": "Dana A."})  # no consent change: the time stays
    dietitian_a.refresh_from_db()
    assert dietitian_a.ai_consent_changed_at == first


def test_another_tenants_dietitian_answers_404(api_b, dietitian_a):
    url = f"/api/v1/dietitians/{dietitian_a.pk}/"
    assert api_b.get(url).status_code == 404
    assert api_b.patch(url, {"name": "Taken"}).status_code == 404
    dietitian_a.refresh_from_db()
    assert dietitian_a.name == "Dana Alpha"
    assert api_b.get("/api/v1/dietitians/").json()["results"] == []


def test_it_refuses_blank_names_and_html(api_a):
    response = api_a.post("/api/v1/dietitians/", {"external_ref": "x", "name": "<b>Eve</b>"})
    assert response.status_code == 400
    assert not Dietitian.objects.filter(external_ref="x").exists()


def test_me_names_the_tenant_whose_id_is_the_client_uuid(api_a, tenant_a):
    assert api_a.get("/api/v1/me/").json()["tenant"]["id"] == str(tenant_a.pk)


def test_it_refuses_numbers_where_text_is_expected(api_a):
    response = api_a.post("/api/v1/dietitians/", {"external_ref": 42, "name": "Num"})
    assert response.status_code == 400
    assert "external_ref" in response.json()["error"]["details"]

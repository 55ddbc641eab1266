"""Every API error leaves in one envelope: {"error": {"code", "message", "details"}}."""

import json

import pytest

pytestmark = [pytest.mark.urls("tests.foundation.urls_probe"), pytest.mark.django_db]


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_validation_error_lists_field_errors(api_a):
    error = assert_envelope(
        api_a.post("/api/v1/probe/echo/", {"name": "x" * 11}, format="json"),
        400,
        "validation_error",
    )
    assert "name" in error["details"]


def test_malformed_json_is_a_400(api_a):
    response = api_a.generic(
        "POST", "/api/v1/probe/echo/", '{"name": ', content_type="application/json"
    )
    assert_envelope(response, 400, "malformed_request")


def test_json_constants_like_nan_are_refused(api_a):
    response = api_a.generic(
        "POST", "/api/v1/probe/echo/", '{"name": NaN}', content_type="application/json"
    )
    assert_envelope(response, 400, "malformed_request")


def test_missing_key_is_a_401_with_bearer_challenge(anonymous_api):
    response = anonymous_api.get("/api/v1/me/")
    assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_view_without_declared_scope_is_refused(api_a):
    assert_envelope(api_a.get("/api/v1/probe/forgetful/"), 403, "permission_denied")


def test_unknown_api_route_is_a_json_404(api_a):
    assert_envelope(api_a.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_envelope(api_a.post("/api/v1/storeContentX", {}, format="json"), 404, "not_found")


def test_wrong_method_is_a_405(api_a):
    assert_envelope(api_a.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_body_over_the_limit_is_a_413(api_a, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x" * 2000})
    response = api_a.generic("POST", "/api/v1/probe/echo/", body, content_type="application/json")
    error = assert_envelope(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 1000}


def test_non_json_body_is_a_415(api_a):
    response = api_a.post("/api/v1/probe/echo/", {"name": "x"}, format="multipart")
    assert_envelope(response, 415, "unsupported_media_type")
    response = api_a.generic("POST", "/api/v1/probe/echo/", "name=x", content_type="text/plain")
    assert_envelope(response, 415, "unsupported_media_type")


def test_unhandled_error_is_a_500_without_internal_detail(api_a, caplog):
    response = api_a.get("/api/v1/probe/crash/")
    error = assert_envelope(response, 500, "internal_error")
    text = response.content.decode()
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert error["details"] == {}
    assert any("Unhandled error" in r.getMessage() for r in caplog.records)


def test_every_response_carries_a_request_id(api_a):
    response = api_a.get("/api/v1/me/", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    assert len(api_a.get("/api/v1/me/", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32

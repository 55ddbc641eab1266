"""The portal sign-in for dietitians (password only unless they enrolled) and the landings."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.controlplane.conftest import PASSWORD, make_user, sign_in, totp_code


def test_a_dietitian_signs_in_with_a_password_and_lands_on_their_portal(dietitian_a):
    user, _ = make_user("dana", totp=False)
    dietitian_a.user = user
    dietitian_a.save()
    client = Client()
    response = client.post("/portal/login/", {"username": "dana", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert client.get("/portal/manage/").status_code == 404
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/portal/login/")


def test_a_dietitian_who_enrolled_needs_the_code_too(dietitian_a):
    user, device = make_user("dana", totp=True)
    dietitian_a.user = user
    dietitian_a.save()
    client = Client()
    response = client.post("/portal/login/", {"username": "dana", "password": PASSWORD})
    assert response.url == "/portal/login/verify/"
    assert SESSION_KEY not in client.session
    sign_in(client, user, device)
    assert client.get("/portal/").status_code == 200


def test_a_manager_lands_on_the_manager_pages(manager_a, tenant_a):
    user, device = manager_a
    client = Client()
    client.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    response = client.post("/portal/login/verify/", {"code": totp_code(device)})
    assert response.url == "/portal/manage/"
    assert tenant_a.name in client.get("/portal/manage/").content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/steal", "//evil.example/"])
def test_next_never_leaves_the_site(superuser, target):
    user, device = superuser
    client = Client()
    client.post("/portal/login/", {"username": user.username, "password": PASSWORD, "next": target})
    response = client.post("/portal/login/verify/", {"code": totp_code(device)})
    assert response.url == "/admin/"


def test_signing_out_needs_a_post_and_ends_the_session(signed_in_admin):
    web, _, _ = signed_in_admin
    assert web.get("/portal/logout/").status_code == 405
    assert web.post("/portal/logout/").status_code == 302
    assert SESSION_KEY not in web.session


def test_sign_in_pages_need_no_inline_script_or_style_under_the_csp(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("fresh", password=PASSWORD, is_staff=True)
    client = Client()
    pages = [client.get("/portal/login/")]
    client.post("/portal/login/", {"username": "fresh", "password": PASSWORD})
    pages.append(client.get("/portal/account/mfa/enrol/"))
    for page in pages:
        assert page.status_code == 200
        policy = page["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "img-src 'self' data:" in policy
        html = page.content.decode()
        assert "<script" not in html and "style=" not in html and "<style" not in html


def test_the_admin_index_offers_onboarding_only_to_those_who_may_onboard(db):
    from nutrition_pro import roles

    for role, offered in ((roles.ONBOARDING, True), (roles.SUPPORT, False)):
        user, device = make_user(f"u-{role.split()[0].lower()}", staff=True, groups=[role])
        client = Client()
        sign_in(client, user, device)
        page = client.get("/admin/").content.decode()
        assert ("/admin/onboarding/" in page) is offered, role

"""The admin admits only staff verified by a second factor; first sign-in forces enrolment."""

import io
import re

from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro.models import BackupCode, BackupCodeDevice
from tests.controlplane.conftest import PASSWORD, make_user, sign_in, totp_code

ADMIN_PAGES = ["/admin/", "/admin/auth/group/", "/admin/auth/user/", "/admin/auditlog/logentry/"]


def test_it_shows_no_admin_page_to_a_password_only_session(superuser):
    user, _ = superuser
    client = Client()
    client.force_login(user)  # authenticated by password, no second factor
    for page in ADMIN_PAGES:
        response = client.get(page, follow=True)
        assert response.redirect_chain, page
        assert response.redirect_chain[-1][0].startswith("/portal/login/"), page
        assert b'name="password"' in response.content


def test_the_password_step_alone_does_not_authenticate_the_session(web, superuser):
    user, _ = superuser
    response = web.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    assert response.url == "/portal/login/verify/"
    assert SESSION_KEY not in web.session
    assert web.get("/admin/").status_code == 302


def test_admin_login_page_sends_to_the_shared_sign_in(web):
    response = web.get("/admin/login/?next=/admin/tenants/")
    assert response.status_code == 302
    assert response.url == "/portal/login/?next=%2Fadmin%2Ftenants%2F"


def test_enrolled_staff_signs_in_with_a_totp_code_and_reaches_the_admin(web, superuser):
    user, device = superuser
    sign_in(web, user, device, next_url="/admin/")
    assert web.get("/admin/").status_code == 200
    assert web.get("/admin/auth/user/").status_code == 200


def test_a_wrong_code_leaves_the_session_unauthenticated(web, superuser):
    user, device = superuser
    web.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = web.post("/portal/login/verify/", {"code": wrong})
    assert response.status_code == 200
    assert b"not right" in response.content
    assert SESSION_KEY not in web.session
    assert web.get("/admin/").status_code == 302


def test_first_sign_in_forces_enrolment_before_any_admin_page_then_admits(web, db):
    user, _ = make_user("newstaff", superuser=True, totp=False)
    response = web.post(
        "/portal/login/", {"username": "newstaff", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.url == "/portal/account/mfa/enrol/"
    # Until enrolment is confirmed, no admin page and no verify step to skip to.
    assert web.get("/admin/").status_code == 302
    page = web.get("/portal/account/mfa/enrol/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert secret == __import__("base64").b32encode(device.bin_key).decode()

    done = web.post("/portal/account/mfa/enrol/", {"code": totp_code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert web.get("/admin/").status_code == 200


def test_a_wrong_enrolment_code_confirms_nothing(web, db):
    make_user("newstaff", superuser=True, totp=False)
    web.post("/portal/login/", {"username": "newstaff", "password": PASSWORD})
    web.get("/portal/account/mfa/enrol/")
    response = web.post("/portal/account/mfa/enrol/", {"code": "12345x"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert web.get("/admin/").status_code == 302


def test_enrolment_cannot_replace_an_existing_authenticator_without_it(web, superuser):
    user, _ = superuser
    web.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    response = web.get("/portal/account/mfa/enrol/")
    assert response.url == "/portal/login/verify/"


def _backup_codes_for(client, user, device) -> list[str]:
    sign_in(client, user, device)
    from tests.controlplane.conftest import reauthenticate

    reauthenticate(client, device)
    response = client.post("/portal/account/mfa/backup-codes/")
    assert response.status_code == 200
    return re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", response.content.decode())


def test_backup_codes_sign_in_once_each(superuser):
    user, device = superuser
    codes = _backup_codes_for(Client(), user, device)
    assert len(codes) == 10

    first = Client()
    first.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    assert first.post("/portal/login/verify/", {"code": codes[0]}).status_code == 302
    assert first.get("/admin/").status_code == 200

    again = Client()
    again.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    response = again.post("/portal/login/verify/", {"code": codes[0]})
    assert response.status_code == 200
    assert again.get("/admin/").status_code == 302
    assert BackupCodeDevice.objects.get(user=user).remaining() == 9


def test_backup_codes_are_stored_only_as_hashes(superuser):
    user, device = superuser
    codes = _backup_codes_for(Client(), user, device)
    stored = list(BackupCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code in codes:
        assert all(code.replace("-", "") not in value for value in stored)


def test_regenerating_backup_codes_voids_the_old_ones(superuser):
    user, device = superuser
    old = _backup_codes_for(Client(), user, device)
    _backup_codes_for(Client(), user, device)
    client = Client()
    client.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    assert client.post("/portal/login/verify/", {"code": old[1]}).status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_staff_user_without_staff_rights_gets_no_admin_even_when_verified(web, db):
    user, device = make_user("plain", staff=False)
    sign_in(web, user, device)
    assert web.get("/admin/").status_code == 302


def test_mfa_reset_makes_the_user_enrol_again_and_is_audited(superuser):
    from django.core.management import call_command

    from nutrition_pro.audit import Event, audit_events

    user, _ = superuser
    call_command("mfa_reset", user.username, stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=user).exists()
    client = Client()
    response = client.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    assert response.url == "/portal/account/mfa/enrol/"
    assert audit_events(Event.MFA_RESET).filter(object_pk=str(user.pk)).exists()


def test_an_administrator_lifts_a_lockout_in_the_admin(signed_in_admin, db):
    from nutrition_pro.models import SignInLockout

    web, _, _ = signed_in_admin
    for _ in range(5):
        Client().post("/portal/login/", {"username": "victim", "password": "wrong guess"})
    row = SignInLockout.objects.get(username="victim")
    assert row.is_locked()
    web.post(
        "/admin/nutrition_pro/signinlockout/", {"action": "unlock", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    assert not row.is_locked() and row.failure_count == 0

"""Sign-in hardening: lockout, throttling, no enumeration, idle staff sessions, rotation,
sign-out everywhere on a password change, and re-authentication before sensitive writes."""

import re

import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from nutrition_pro.audit import Event, audit_events
from nutrition_pro.models import SignInLockout
from tenants.models import ApiKey
from tests.controlplane.conftest import PASSWORD, reauthenticate, sign_in, totp_code

WRONG = "not the password at all"


def _attempt(client, username, password=WRONG):
    return client.post("/portal/login/", {"username": username, "password": password})


def test_five_failures_lock_the_account_even_against_the_right_password(web, superuser):
    user, _ = superuser
    for _ in range(4):
        assert b"not right" in _attempt(web, user.username).content
    assert b"paused" in _attempt(web, user.username).content
    response = _attempt(web, user.username, PASSWORD)
    assert response.status_code == 429
    assert b"paused" in response.content
    assert SESSION_KEY not in web.session
    assert "signin_pending" not in web.session
    assert audit_events(Event.SIGNIN_LOCKED).filter(object_pk=str(user.pk)).exists()


def test_the_lock_lifts_after_fifteen_minutes(superuser):
    user, device = superuser
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = Client()
        for _ in range(5):
            _attempt(client, user.username)
        assert _attempt(client, user.username, PASSWORD).status_code == 429
        traveller.shift(15 * 60 + 1)
        sign_in(Client(), user, device)
    assert SignInLockout.objects.get(username=user.username).failure_count == 0


def test_failures_spread_beyond_the_window_do_not_lock(superuser):
    user, device = superuser
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(4):
            _attempt(Client(), user.username)
        traveller.shift(16 * 60)
        _attempt(Client(), user.username)
        sign_in(Client(), user, device)


def test_wrong_second_factors_count_towards_the_lockout(superuser):
    user, _ = superuser
    client = Client()
    client.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    for _ in range(5):
        client.post("/portal/login/verify/", {"code": "zzzzzzzzzz"})
    # The pending sign-in is dropped and the name is locked.
    assert "signin_pending" not in client.session
    assert _attempt(Client(), user.username, PASSWORD).status_code == 429


def _errors(response) -> list[bytes]:
    return re.findall(rb'class="errors"><li>(.*?)</li>', response.content)


def test_messages_do_not_reveal_whether_an_account_exists(web, superuser):
    user, _ = superuser
    known = _attempt(Client(), user.username)
    unknown = _attempt(Client(), "no-such-person")
    assert known.status_code == unknown.status_code == 200
    assert _errors(known) == _errors(unknown) != []
    # Unknown names lock exactly like known ones.
    for _ in range(4):
        _attempt(web, "no-such-person")
    assert b"paused" in _attempt(web, "no-such-person").content


def test_attempts_from_one_address_are_throttled(settings, db):
    settings.SIGNIN_RATE_PER_IP = "3/5m"
    client = Client(REMOTE_ADDR="192.0.2.50")
    statuses = [_attempt(client, f"user{i}").status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert (
        audit_events(Event.SIGNIN_FAILED)
        .filter(additional_data__reason="throttled", remote_addr="192.0.2.50")
        .exists()
    )
    # Another address is not affected.
    assert _attempt(Client(REMOTE_ADDR="192.0.2.51"), "user9").status_code == 200


def test_attempts_on_one_name_are_throttled_across_addresses(settings, superuser):
    settings.SIGNIN_RATE_PER_USERNAME = "3/5m"
    settings.SIGNIN_LOCKOUT_THRESHOLD = 100
    user, _ = superuser
    statuses = [
        _attempt(Client(REMOTE_ADDR=f"192.0.2.{i}"), user.username).status_code for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_sign_in_rotates_the_session_key(web, superuser):
    user, device = superuser
    web.get("/portal/login/")
    web.session.save()
    before = web.session.session_key
    sign_in(web, user, device)
    assert web.session.session_key != before


def test_an_idle_staff_session_ends_after_fifteen_minutes(superuser):
    user, device = superuser
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = Client()
        sign_in(client, user, device)
        traveller.shift(14 * 60)
        assert client.get("/admin/").status_code == 200  # activity renews the idle timer
        traveller.shift(14 * 60)
        assert client.get("/admin/").status_code == 200
        traveller.shift(15 * 60 + 1)
        response = client.get("/admin/")
        assert response.status_code == 302
        assert SESSION_KEY not in client.session


def test_a_password_change_signs_out_every_other_session(superuser):
    user, device = superuser
    laptop, phone = Client(), Client()
    sign_in(laptop, user, device)
    sign_in(phone, user, device)
    response = laptop.post(
        "/portal/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "an entirely new passphrase 77",
            "new_password2": "an entirely new passphrase 77",
        },
    )
    assert response.status_code == 200
    assert laptop.get("/admin/").status_code == 200
    assert phone.get("/admin/").status_code == 302
    assert audit_events(Event.PASSWORD_CHANGED).filter(actor=user).exists()


def test_issuing_a_key_needs_a_recent_reauthentication(signed_in_manager):
    web, _user, device = signed_in_manager
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        traveller.shift(6 * 60)  # the sign-in itself no longer counts
        response = web.post("/portal/manage/keys/new/", {"name": "k", "scopes": ["usage:read"]})
        assert response.status_code == 302
        assert response.url.startswith("/portal/reauth/?next=")
        assert not ApiKey.objects.filter(name="k").exists()
        reauthenticate(web, device)
        web.post("/portal/manage/keys/new/", {"name": "k", "scopes": ["usage:read"]})
        assert ApiKey.objects.filter(name="k").exists()


def test_reauthentication_needs_both_password_and_code(signed_in_manager):
    web, _user, device = signed_in_manager
    session = web.session
    session["reauth_at"] = 0
    session.save()
    bad_password = web.post("/portal/reauth/", {"password": WRONG, "code": totp_code(device)})
    assert bad_password.status_code == 200
    bad_code = web.post("/portal/reauth/", {"password": PASSWORD, "code": "000000"})
    assert bad_code.status_code == 200
    response = web.post("/portal/manage/keys/new/", {"name": "k", "scopes": ["usage:read"]})
    assert response.status_code == 302
    assert not ApiKey.objects.filter(name="k").exists()
    assert audit_events(Event.REAUTH_FAILED).count() == 2


def test_admin_writes_to_keys_need_a_recent_reauthentication(signed_in_admin, tenant_a):
    web, _user, device = signed_in_admin
    session = web.session
    session["reauth_at"] = 0
    session.save()
    response = web.get("/admin/onboarding/")
    assert response.status_code == 302
    assert response.url.startswith("/portal/reauth/?next=%2Fadmin%2Fonboarding%2F")
    reauthenticate(web, device)
    assert web.get("/admin/onboarding/").status_code == 200


def test_a_staff_session_ends_after_eight_hours_even_when_busy(superuser):
    user, device = superuser
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = Client()
        sign_in(client, user, device)
        minutes = 0.0
        while client.get("/admin/").status_code == 200 and minutes < 10 * 60:
            traveller.shift(14.5 * 60)  # busy: a request every 14.5 minutes
            minutes += 14.5
        assert 8 * 60 < minutes <= 8 * 60 + 14.5
        assert SESSION_KEY not in client.session


def test_a_flood_of_throttled_attempts_writes_one_audit_entry(settings, db):
    settings.SIGNIN_RATE_PER_IP = "2/5m"
    client = Client(REMOTE_ADDR="192.0.2.77")
    for i in range(12):
        _attempt(client, f"guess{i}")
    throttled = audit_events(Event.SIGNIN_FAILED).filter(additional_data__reason="throttled")
    assert throttled.count() == 1


def test_old_failure_counters_are_purged_but_locks_are_kept(superuser):
    from nutrition_pro.tasks import purge_signin_lockouts

    user, _ = superuser
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _attempt(Client(), "typo-name")
        for _ in range(5):
            _attempt(Client(), user.username)
        traveller.shift(25 * 3600)
        for _ in range(5):
            _attempt(Client(REMOTE_ADDR="192.0.2.9"), "fresh-victim")
        assert purge_signin_lockouts() == 2
    assert list(SignInLockout.objects.values_list("username", flat=True)) == ["fresh-victim"]

"""Sign-in hardening shared by the portal and the admin.

Throttling per source address and per account name (django-ratelimit on the shared
cache), a temporary lockout after repeated failures (a database row per account name,
whether or not the account exists, so a lock reveals nothing), a two-step sign-in
whose first step does not authenticate the session, recent re-authentication for
sensitive operations, and short idle sessions for staff and managers.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import is_ratelimited

from nutrition_pro import mfa
from nutrition_pro.audit import Event, audit_event, client_ip
from nutrition_pro.models import SignInLockout

PENDING_SESSION_KEY = "signin_pending"
REAUTH_SESSION_KEY = "reauth_at"
ACTIVITY_SESSION_KEY = "last_activity"
SIGNED_IN_SESSION_KEY = "signed_in_at"


def _setting(name: str, default):
    return getattr(settings, name, default)


def lockout_threshold() -> int:
    return _setting("SIGNIN_LOCKOUT_THRESHOLD", 5)


def lockout_window() -> timedelta:
    return timedelta(seconds=_setting("SIGNIN_LOCKOUT_WINDOW_SECONDS", 15 * 60))


def lockout_duration() -> timedelta:
    return timedelta(seconds=_setting("SIGNIN_LOCKOUT_SECONDS", 15 * 60))


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


# --- throttling ----------------------------------------------------------------------


def _username_key(group, request) -> str:
    return normalise_username(request.POST.get("username", "")) or "-"


def signin_throttled(request) -> bool:
    """Counts this attempt against the address and the account name; True when over a limit."""
    by_ip = is_ratelimited(
        request,
        group="signin-ip",
        key=lambda group, request: client_ip(request) or "-",
        rate=_setting("SIGNIN_RATE_PER_IP", "30/5m"),
        increment=True,
    )
    by_name = is_ratelimited(
        request,
        group="signin-username",
        key=_username_key,
        rate=_setting("SIGNIN_RATE_PER_USERNAME", "10/5m"),
        increment=True,
    )
    return by_ip or by_name


# --- lockout -------------------------------------------------------------------------


def refused_attempt_worth_recording(kind: str, value: str | None) -> bool:
    """One audit entry per source (or name) and window for refused attempts: a flood of
    throttled requests must not become a flood of log rows."""
    return cache.add(f"signin-refused:{kind}:{value}", 1, timeout=5 * 60)


def lockout_active(username: str) -> bool:
    row = SignInLockout.objects.filter(username=normalise_username(username)).first()
    return row is not None and row.is_locked()


@transaction.atomic
def signin_failure_record(*, username: str, request, reason: str, user=None) -> bool:
    """Counts a failure; locks the name at the threshold. Returns True if now locked."""
    name = normalise_username(username)
    now = timezone.now()
    row, _ = SignInLockout.objects.select_for_update().get_or_create(username=name)
    if row.first_failure_at is None or now - row.first_failure_at > lockout_window():
        row.failure_count = 0
        row.first_failure_at = now
    row.failure_count += 1  # the row lock above makes this safe against concurrent failures
    row.last_failure_at = now
    row.save(update_fields=["failure_count", "first_failure_at", "last_failure_at"])
    audit_event(
        Event.SIGNIN_FAILED,
        obj=user,
        actor=user,
        request=request,
        data={"reason": reason},
    )
    if row.failure_count >= lockout_threshold() and not row.is_locked(now):
        row.locked_until = now + lockout_duration()
        row.save(update_fields=["locked_until"])
        audit_event(
            Event.SIGNIN_LOCKED,
            obj=user,
            actor=user,
            request=request,
            data={"until": row.locked_until.isoformat(), "failures": row.failure_count},
        )
        return True
    return row.is_locked(now)


def signin_failures_clear(*, username: str) -> None:
    SignInLockout.objects.filter(username=normalise_username(username)).update(
        failure_count=0, first_failure_at=None, locked_until=None
    )


# --- the two steps -------------------------------------------------------------------


class Outcome:
    """What the password step decided."""

    THROTTLED = "throttled"
    LOCKED = "locked"
    FAILED = "failed"
    SECOND_FACTOR = "second_factor"
    ENROL = "enrol"
    SIGNED_IN = "signed_in"


def known_user(username: str):
    User = get_user_model()
    return User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username.strip()}).first()


def signin_password_step(request, *, username: str, password: str, next_url: str | None) -> str:
    """Throttle, lockout, password; then the second factor, enrolment, or (no MFA) sign-in.

    Every refusal says the same for existing and unknown names.
    """
    if signin_throttled(request):
        if refused_attempt_worth_recording("throttled", client_ip(request)):
            audit_event(Event.SIGNIN_FAILED, request=request, data={"reason": "throttled"})
        return Outcome.THROTTLED
    if lockout_active(username):
        if refused_attempt_worth_recording("locked", normalise_username(username)):
            known = known_user(username)
            audit_event(
                Event.SIGNIN_FAILED, obj=known, actor=known, request=request,
                data={"reason": "locked"},
            )  # fmt: skip
        return Outcome.LOCKED
    user = authenticate(request, username=username, password=password)
    if user is None:
        locked = signin_failure_record(
            username=username, request=request, reason="password", user=known_user(username)
        )
        return Outcome.LOCKED if locked else Outcome.FAILED
    if mfa.has_confirmed_device(user):
        pending_start(request, user, next_url)
        return Outcome.SECOND_FACTOR
    if mfa.mfa_required(user):
        pending_start(request, user, next_url)
        return Outcome.ENROL
    signin_complete(request, user)
    return Outcome.SIGNED_IN


def pending_start(request, user, next_url: str | None = None) -> None:
    """Password accepted: remember who is signing in, without authenticating the session."""
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url,
    }


def pending_user(request):
    """The user between the password and the second factor, or None once it went stale."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not pending:
        return None
    if time.time() - pending.get("at", 0) > _setting("SIGNIN_PENDING_SECONDS", 300):
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is not None:
        user.backend = pending["backend"]
    return user


def signin_complete(request, user, device=None) -> None:
    """Authenticates the session (a new session key) and records the event."""
    request.session.pop(PENDING_SESSION_KEY, None)
    if device is not None:
        user.otp_device = device  # django_otp's login hook marks the session verified
    auth_login(request, user, backend=getattr(user, "backend", None))
    now = time.time()
    request.session[REAUTH_SESSION_KEY] = now
    request.session[ACTIVITY_SESSION_KEY] = now
    request.session[SIGNED_IN_SESSION_KEY] = now
    signin_failures_clear(username=user.get_username())
    audit_event(
        Event.SIGNIN_SUCCEEDED,
        obj=user,
        actor=user,
        request=request,
        data={"second_factor": type(device).__name__ if device is not None else None},
    )
    if device is not None and isinstance(device, mfa.BackupCodeDevice):
        audit_event(
            Event.BACKUP_CODE_USED,
            obj=user,
            actor=user,
            request=request,
            data={"remaining": device.remaining()},
        )


def signout(request) -> None:
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        audit_event(Event.SIGNED_OUT, obj=user, actor=user, request=request)
    auth_logout(request)


# --- re-authentication -------------------------------------------------------------


def reauth_window_seconds() -> int:
    return _setting("REAUTH_WINDOW_SECONDS", 5 * 60)


def has_recent_reauth(request) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY)
    return at is not None and time.time() - at <= reauth_window_seconds()


def reauth_mark(request) -> None:
    request.session[REAUTH_SESSION_KEY] = time.time()


def reauth_redirect(request, next_url: str | None = None):
    target = next_url or request.get_full_path()
    return redirect(f"{reverse('signin:reauth')}?{urlencode({'next': target})}")


def reauth_required(view):
    """Password and second factor within the last few minutes, or a detour to confirm them."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not has_recent_reauth(request):
            return reauth_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


def fully_signed_in(user) -> bool:
    """Signed in, with the second factor whenever the user has one or must have one."""
    if not user.is_authenticated:
        return False
    if user.is_verified():
        return True
    return not mfa.mfa_required(user) and not mfa.has_confirmed_device(user)


def verified_required(view):
    """A fully signed-in user (second factor passed), or a detour to the sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not fully_signed_in(request.user):
            login_url = reverse("signin:login")
            return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


# --- idle sessions ---------------------------------------------------------------------


class IdleSessionMiddleware:
    """Signs staff and managers out after a short idle time, and after a working day in any
    case; other users keep the normal session age."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and mfa.mfa_required(user):
            idle = _setting("STAFF_SESSION_IDLE_SECONDS", 15 * 60)
            longest = _setting("STAFF_SESSION_MAX_SECONDS", 8 * 3600)
            now = time.time()
            last = request.session.get(ACTIVITY_SESSION_KEY)
            started = request.session.setdefault(SIGNED_IN_SESSION_KEY, now)
            if (last is not None and now - last > idle) or now - started > longest:
                auth_logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                login_url = reverse("signin:login")
                return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
            request.session[ACTIVITY_SESSION_KEY] = now
            request.session.set_expiry(idle)
        return self.get_response(request)

"""Portal and admin sign-in pages: password, second factor, enrolment, re-authentication."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from nutrition_pro import mfa, signin
from nutrition_pro.audit import Event, audit_event

FAILED_MESSAGE = "The username or password is not right."
LOCKED_MESSAGE = (
    "Too many failed attempts for this account name: sign-in is paused for a few minutes."
)
THROTTLED_MESSAGE = "Too many sign-in attempts. Wait a few minutes, then try again."
CODE_FAILED_MESSAGE = "That code is not right (or was used already)."


class PasswordForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code from your authenticator app, or a backup code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(max_length=4096, widget=forms.PasswordInput)
    code = forms.CharField(max_length=32, label="Authenticator or backup code")


def _safe_next(request, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _landing(user) -> str:
    if user.is_staff:
        return reverse("admin:index")
    if hasattr(user, "tenant_membership"):
        return "/portal/manage/"
    return settings.LOGIN_REDIRECT_URL


def _after_signin(request, user, next_url: str | None) -> HttpResponseRedirect:
    return redirect(_safe_next(request, next_url) or _landing(user))


REFUSALS = {
    signin.Outcome.THROTTLED: (THROTTLED_MESSAGE, 429),
    signin.Outcome.LOCKED: (LOCKED_MESSAGE, 429),
    signin.Outcome.FAILED: (FAILED_MESSAGE, 200),
}
NEXT_STEP = {signin.Outcome.SECOND_FACTOR: "signin:verify", signin.Outcome.ENROL: "signin:enrol"}


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = PasswordForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome = signin.signin_password_step(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            next_url=next_url,
        )
        if outcome == signin.Outcome.SIGNED_IN:
            return _after_signin(request, request.user, next_url)
        if outcome in NEXT_STEP:
            return redirect(NEXT_STEP[outcome])
        message, status = REFUSALS[outcome]
        form.add_error(None, message)
    return render(
        request, "controlplane/login.html", {"form": form, "next": next_url or ""}, status=status
    )


def _pending_next(request) -> str | None:
    pending = request.session.get(signin.PENDING_SESSION_KEY) or {}
    return pending.get("next")


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def verify_view(request):
    user = signin.pending_user(request)
    if user is None:
        return redirect("signin:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if signin.lockout_active(user.get_username()):
            request.session.pop(signin.PENDING_SESSION_KEY, None)
            form.add_error(None, LOCKED_MESSAGE)
        else:
            device = mfa.verify_second_factor(user, form.cleaned_data["code"])
            if device is None:
                locked = signin.signin_failure_record(
                    username=user.get_username(), request=request, reason="second_factor", user=user
                )
                if locked:
                    request.session.pop(signin.PENDING_SESSION_KEY, None)
                form.add_error(None, LOCKED_MESSAGE if locked else CODE_FAILED_MESSAGE)
            else:
                next_url = _pending_next(request)
                signin.signin_complete(request, user, device)
                return _after_signin(request, user, next_url)
    return render(request, "controlplane/verify.html", {"form": form})


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def enrol_view(request):
    """TOTP enrolment: forced at a first sign-in, or by a verified user after re-authenticating."""
    pending = signin.pending_user(request)
    if pending is not None:
        user = pending
        if mfa.has_confirmed_device(user):
            return redirect("signin:verify")  # enrolment never bypasses an existing factor
    elif signin.fully_signed_in(request.user):
        user = request.user
        # Replacing an authenticator needs the current one (and the password) first.
        if mfa.has_confirmed_device(user) and not signin.has_recent_reauth(request):
            return signin.reauth_redirect(request)
    else:
        return redirect("signin:login")
    device = mfa.pending_totp_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.totp_confirm(device=device, token=form.cleaned_data["code"])
        if codes is None:
            form.add_error("code", CODE_FAILED_MESSAGE)
        else:
            audit_event(Event.MFA_ENROLLED, obj=user, actor=user, request=request)
            next_url = _pending_next(request) if pending is not None else None
            if pending is not None:
                signin.signin_complete(request, user, device)
            return render(
                request,
                "controlplane/backup_codes.html",
                {"codes": codes, "continue_url": _safe_next(request, next_url) or _landing(user)},
            )
    return render(
        request,
        "controlplane/enrol.html",
        {
            "form": form,
            "qr_data_uri": mfa.totp_qr_data_uri(device),
            "secret": mfa.totp_secret_base32(device),
            "forced": pending is not None,
        },
    )


@login_required
@signin.verified_required
@signin.reauth_required
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def backup_codes_view(request):
    if request.method == "POST":
        codes = mfa.backup_codes_regenerate(user=request.user)
        audit_event(Event.BACKUP_CODES_REGENERATED, obj=request.user, request=request)
        return render(
            request,
            "controlplane/backup_codes.html",
            {"codes": codes, "continue_url": reverse("signin:security")},
        )
    return redirect("signin:security")


@login_required
@signin.verified_required
@never_cache
def security_view(request):
    return render(
        request,
        "controlplane/security.html",
        {"remaining": mfa.backup_codes_remaining(request.user)},
    )


@sensitive_post_parameters("password", "code")
@login_required
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def reauth_view(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    user = request.user
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if signin.lockout_active(user.get_username()):
            form.add_error(None, LOCKED_MESSAGE)
        else:
            password_ok = user.check_password(form.cleaned_data["password"])
            device = (
                mfa.verify_second_factor(user, form.cleaned_data["code"]) if password_ok else None
            )
            if device is None:
                audit_event(Event.REAUTH_FAILED, obj=user, request=request)
                locked = signin.signin_failure_record(
                    username=user.get_username(), request=request, reason="reauth", user=user
                )
                if locked:
                    signin.signout(request)
                    return redirect("signin:login")
                form.add_error(None, "The password or the code is not right.")
            else:
                signin.reauth_mark(request)
                audit_event(Event.REAUTH_SUCCEEDED, obj=user, request=request)
                return redirect(next_url or _landing(user))
    return render(request, "controlplane/reauth.html", {"form": form, "next": next_url or ""})


@require_POST
@csrf_protect
def logout_view(request):
    signin.signout(request)
    return redirect("signin:login")


@sensitive_post_parameters()
@login_required
@signin.verified_required
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    """Changing the password signs out every other session of the user (session hash)."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # keeps this session, and only this one
        audit_event(Event.PASSWORD_CHANGED, obj=user, request=request)
        return render(request, "controlplane/password_done.html")
    return render(request, "controlplane/password.html", {"form": form})

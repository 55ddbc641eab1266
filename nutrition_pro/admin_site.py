"""The Web Control Plane: the Django admin, admitting only staff verified by a second factor.

Sign-in goes through the shared portal sign-in (throttling, lockout, TOTP, audit).
Pages that issue, rotate or revoke keys, change prices or plans, or issue invoices
ask for the password and a code again when the last confirmation is older than a
few minutes.
"""

from __future__ import annotations

import re
from functools import wraps
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from nutrition_pro import signin
from nutrition_pro.audit import Event, audit_event

# Admin URL names (app_model_action) whose writes need a recent re-authentication.
REAUTH_ADMIN_URLS = re.compile(
    r"^(tenants_apikey|tenants_plan|tenants_keyanomalyalert|billing_modelprice|billing_invoice)"
    r"_(?P<action>\w+)$"
)
# Extra admin pages (by URL name) that always need it, e.g. the onboarding flow.
REAUTH_ADMIN_PAGES: set[str] = {"onboard_tenant"}

# Admin pages that show decrypted personal content: URL name -> (model label, permission).
# Opening one (for a user holding the permission) is an audited event.
CONTENT_VIEWS_AUDITED: dict[str, tuple[str, str]] = {
    "llm_generationrequest_change": ("llm.GenerationRequest", "llm.view_generation_content"),
}


def _audit_content_view(request, kwargs, response) -> None:
    match = request.resolver_match
    audited = CONTENT_VIEWS_AUDITED.get(match.url_name if match else "")
    if audited is None or request.method != "GET" or response.status_code != 200:
        return
    label, permission = audited
    if not request.user.has_perm(permission):
        return  # the page showed no content to this user
    try:
        model = apps.get_model(label)
    except LookupError:
        return
    obj = model._base_manager.filter(pk=kwargs.get("object_id")).first()
    if obj is not None:
        audit_event(
            Event.GENERATION_CONTENT_VIEWED, obj=obj, request=request, data={"model": label}
        )


def _needs_reauth(request) -> bool:
    match = request.resolver_match
    name = match.url_name if match else None
    if not name:
        return False
    if name in REAUTH_ADMIN_PAGES:
        return True
    found = REAUTH_ADMIN_URLS.match(name)
    if not found:
        return False
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return True
    action = found.group("action")
    if action in ("add", "delete"):
        return True
    if action == "change":
        app_label, model = found.group(1).split("_", 1)
        return request.user.has_perm(f"{app_label}.change_{model}")
    return action not in ("changelist", "history", "autocomplete", "auditlog")


class ControlPlaneAdminSite(admin.AdminSite):
    site_header = "AI Nutrition-Pro control plane"
    site_title = "AI Nutrition-Pro control plane"
    index_title = "Control plane"
    index_template = "controlplane/admin_index.html"
    site_url = None  # no public site to link to from the control plane

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._extra_views: list[tuple[str, object, str]] = []

    def register_view(self, route: str, view, name: str) -> None:
        """Adds an app's own admin page (e.g. tenant onboarding) behind the same checks."""
        self._extra_views = [entry for entry in self._extra_views if entry[2] != name]
        self._extra_views.append((route, view, name))

    def get_urls(self):
        from django.urls import path

        extra = [
            path(route, self.admin_view(view), name=name) for route, view, name in self._extra_views
        ]
        return extra + super().get_urls()

    def has_permission(self, request) -> bool:
        # A password-only session is treated as if it were not staff at all.
        return super().has_permission(request) and request.user.is_verified()

    def admin_view(self, view, cacheable=False):
        @wraps(view)
        def reauth_checked(request, *args, **kwargs):
            if _needs_reauth(request) and not signin.has_recent_reauth(request):
                if request.method == "POST":
                    messages.info(
                        request, "Confirm your password and code, then repeat the operation."
                    )
                return signin.reauth_redirect(request)
            response = view(request, *args, **kwargs)
            _audit_content_view(request, kwargs, response)
            return response

        return super().admin_view(reauth_checked, cacheable)

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect(f"{reverse('signin:login')}?{urlencode({'next': target})}")

    @csrf_protect
    def logout(self, request, extra_context=None):
        return _admin_logout(request)

    def password_change(self, request, extra_context=None):
        return redirect("signin:password")


@require_POST
def _admin_logout(request):
    signin.signout(request)
    return redirect("signin:login")

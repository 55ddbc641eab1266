"""The Meal Planner application manager's pages (/portal/manage/): their own tenant only.

Every page needs a signed-in manager who passed the second factor; every object is
read through a selector that takes the manager's tenant, so another tenant's ids
answer 404. Issuing, rotating and revoking keys need a recent re-authentication.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from nutrition_pro.exceptions import InvalidInput
from nutrition_pro.signin import reauth_required, verified_required
from tenants import selectors, services
from tenants.models import ALL_SCOPES, Scope

GRACE_CHOICES = [
    (0, "none: the old key stops now"),
    (1, "1 hour"),
    (24, "24 hours"),
    (72, "3 days"),
    (168, "7 days"),
]


def manager_required(view):
    """A verified manager; `request.tenant` is their tenant. Anyone else sees 404."""

    @verified_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tenant = selectors.managed_tenant(user=request.user)
        if tenant is None:
            raise Http404("Not a tenant manager.")
        request.tenant = tenant
        return view(request, *args, **kwargs)

    return wrapper


class KeyIssueForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, initial=ALL_SCOPES, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=730, required=False, help_text="Leave empty for no expiry."
    )


class KeyRotateForm(forms.Form):
    grace_hours = forms.TypedChoiceField(choices=GRACE_CHOICES, coerce=int, initial=24)


@manager_required
@never_cache
def dashboard(request):
    tenant = request.tenant
    return render(
        request,
        "portal/manage/dashboard.html",
        {
            "tenant": tenant,
            "active_keys": sum(
                1 for key in selectors.api_key_list(tenant=tenant) if key.is_usable()
            ),
            "dietitians": selectors.dietitian_list(tenant=tenant).count(),
        },
    )


@manager_required
@never_cache
def dietitian_list(request):
    dietitians = selectors.dietitian_list(tenant=request.tenant)
    return render(request, "portal/manage/dietitians.html", {"dietitians": dietitians})


@manager_required
@never_cache
def dietitian_detail(request, dietitian_id):
    dietitian = selectors.dietitian_get(tenant=request.tenant, dietitian_id=dietitian_id)
    return render(request, "portal/manage/dietitian.html", {"dietitian": dietitian})


@manager_required
@never_cache
def key_list(request):
    keys = selectors.api_key_list(tenant=request.tenant).select_related("replaces")
    return render(request, "portal/manage/keys.html", {"keys": keys, "now": timezone.now()})


@manager_required
@never_cache
def key_detail(request, key_id):
    key = selectors.api_key_get(tenant=request.tenant, api_key_id=key_id)
    return render(request, "portal/manage/key.html", {"key": key})


@manager_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_issue(request):
    form = KeyIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            issued = services.api_key_issue(
                tenant=request.tenant,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                created_by=request.user,
            )
        except InvalidInput as error:
            form.add_error(None, error.message)
        else:
            return render(request, "portal/manage/key_secret.html", {"issued": issued})
    return render(request, "portal/manage/key_issue.html", {"form": form})


@manager_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_rotate(request, key_id):
    key = selectors.api_key_get(tenant=request.tenant, api_key_id=key_id)
    form = KeyRotateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_key_rotate(
                api_key=key,
                grace=timedelta(hours=form.cleaned_data["grace_hours"]),
                rotated_by=request.user,
            )
        except InvalidInput as error:
            form.add_error(None, error.message)
        else:
            return render(
                request, "portal/manage/key_secret.html", {"issued": issued, "rotated": key}
            )
    return render(request, "portal/manage/key_rotate.html", {"form": form, "key": key})


@manager_required
@reauth_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_revoke(request, key_id):
    key = selectors.api_key_get(tenant=request.tenant, api_key_id=key_id)
    if request.method == "POST":
        services.api_key_revoke(api_key=key, revoked_by=request.user)
        return redirect("manage:key_list")
    return render(request, "portal/manage/key_revoke.html", {"key": key})

"""The admin's onboarding page: tenant, first manager and first key; secrets shown once."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from nutrition_pro.exceptions import InvalidInput
from tenants.models import ALL_SCOPES, Plan
from tenants.onboarding import tenant_onboard

REQUIRED_PERMISSIONS = (
    "tenants.add_tenant",
    "tenants.add_apikey",
    "tenants.add_tenantmembership",
    "auth.add_user",
)


class OnboardingForm(forms.Form):
    name = forms.CharField(max_length=200, label="Tenant name")
    slug = forms.SlugField(
        max_length=60, required=False, help_text="Derived from the name if empty."
    )
    plan = forms.ModelChoiceField(queryset=Plan.objects.filter(is_active=True))
    manager_username = forms.CharField(max_length=150)
    manager_email = forms.EmailField()
    key_name = forms.CharField(max_length=100, initial="default")
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in ALL_SCOPES],
        initial=ALL_SCOPES,
        widget=forms.CheckboxSelectMultiple,
    )


@never_cache
def onboard_tenant_view(request):
    if not request.user.has_perms(REQUIRED_PERMISSIONS):
        raise PermissionDenied
    form = OnboardingForm(request.POST or None)
    context = {**admin.site.each_context(request), "title": "Onboard a tenant", "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = tenant_onboard(
                name=data["name"],
                slug=data["slug"] or None,
                plan=data["plan"],
                manager_username=data["manager_username"],
                manager_email=data["manager_email"],
                key_name=data["key_name"],
                scopes=data["scopes"],
                created_by=request.user,
            )
        except InvalidInput as error:
            for field, messages in error.details.items():
                form.add_error(field if field in form.fields else None, messages)
            if not error.details:
                form.add_error(None, error.message)
        else:
            context.update(title="Tenant onboarded", result=result)
            return render(request, "controlplane/admin_onboarding_done.html", context)
    return render(request, "controlplane/admin_onboarding.html", context)

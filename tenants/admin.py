"""Admin for tenants, plans, API keys, memberships and key anomaly alerts.

Writes go through `tenants.services`. A key's hash is never shown; its plaintext is shown
once, on the page that answers the issuing (or rotating) request, and is stored nowhere.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from nutrition_pro.exceptions import ServiceError
from tenants import services
from tenants.models import ApiKey, KeyAnomalyAlert, Plan, Scope, Tenant, TenantMembership

ISSUED_TEMPLATE = "admin/tenants/apikey/issued.html"


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "monthly_fee",
        "requests_per_minute",
        "monthly_token_quota",
        "monthly_cost_cap",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "plan", "requests_per_minute", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["name", "slug", "id"]
    readonly_fields = ["id", "created_at"]
    actions = ["suspend_tenants", "activate_tenants"]
    fieldsets = [
        (None, {"fields": ["id", "name", "slug", "status", "plan", "created_at"]}),
        (
            "Limits",
            {
                "fields": [
                    "requests_per_minute",
                    "monthly_token_quota",
                    "monthly_cost_cap",
                    "max_queued_generations",
                    "log_retention_days",
                ]
            },
        ),
        ("Safety", {"fields": ["auto_suspend_keys_on_anomaly", "redact_before_provider"]}),
    ]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.tenant_create(name=data["name"], slug=data["slug"], plan=None)
            obj.pk, obj.slug, obj._state.adding = created.pk, created.slug, False
            obj.created_at = created.created_at
        changes = {
            field: data[field]
            for field in form.changed_data
            if field in data and field not in {"status", "slug"}
        }
        if not change:
            changes.pop("name", None)
        if changes:
            services.tenant_update(tenant=obj, **changes)
        if "status" in form.changed_data:
            services.tenant_set_status(tenant=obj, status=data["status"])
        obj.refresh_from_db()

    def get_readonly_fields(self, request, obj=None):
        # The slug is an identifier clients and commands hold: fixed once the tenant exists.
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        # Tenants are suspended, never deleted: deleting would drop their keys without the
        # cache invalidation a service performs, and their history with them.
        return False

    @admin.action(description="Suspend selected tenants (their keys answer 403)")
    def suspend_tenants(self, request, queryset):
        for tenant in queryset:
            services.tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
        self.message_user(request, f"Suspended {queryset.count()} tenant(s).")

    @admin.action(description="Re-activate selected tenants")
    def activate_tenants(self, request, queryset):
        for tenant in queryset:
            services.tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
        self.message_user(request, f"Re-activated {queryset.count()} tenant(s).")


class ScopesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=Scope.choices, **kwargs)


class ApiKeyIssueForm(forms.ModelForm):
    scopes = ScopesField()

    class Meta:
        model = ApiKey
        fields = ["tenant", "name", "scopes", "expires_at", "requests_per_minute"]


class ApiKeyChangeForm(forms.ModelForm):
    scopes = ScopesField()

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at", "requests_per_minute"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "display_prefix",
        "name",
        "tenant",
        "status",
        "scope_list",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "created_at",
    ]
    list_filter = ["tenant", "revoked_at", "suspended_at"]
    search_fields = ["prefix", "name", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    actions = ["rotate_key", "revoke_keys", "suspend_keys", "resume_keys"]
    readonly_fields = [
        "display_prefix",
        "tenant",
        "status",
        "created_at",
        "created_by",
        "revoked_at",
        "suspended_at",
        "last_used_at",
        "last_used_ip",
        "replaces",
    ]

    @admin.display(description="key")
    def display_prefix(self, obj) -> str:
        return f"np_{obj.prefix}_…"

    @admin.display(description="scopes")
    def scope_list(self, obj) -> str:
        return ", ".join(obj.scopes)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ApiKeyChangeForm if obj else ApiKeyIssueForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyIssueForm.Meta.fields
        return [*self.readonly_fields, *ApiKeyChangeForm.Meta.fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # keys are revoked, never deleted: their history stays

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.api_key_update(
                api_key=obj,
                **{field: data[field] for field in form.changed_data if field in data},
            )
            return
        issued = services.api_key_issue(
            tenant=data["tenant"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
            requests_per_minute=data.get("requests_per_minute"),
            created_by=request.user,
        )
        obj.pk, obj.prefix, obj._state.adding = issued.api_key.pk, issued.api_key.prefix, False
        request._issued_key = issued

    def response_add(self, request, obj, post_url_continue=None):
        issued = getattr(request, "_issued_key", None)
        if issued is None:
            return super().response_add(request, obj, post_url_continue)
        return self._issued_page(request, issued, "API key issued")

    def _issued_page(self, request, issued, title):
        response = TemplateResponse(
            request,
            ISSUED_TEMPLATE,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "issued": issued,
                "plaintext": issued.plaintext,
                "opts": self.model._meta,
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Rotate the selected key (24 h grace) and show the new one")
    def rotate_key(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, "Rotate one key at a time.", messages.ERROR)
            return None
        try:
            issued = services.api_key_rotate(api_key=queryset.get(), rotated_by=request.user)
        except ServiceError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        return self._issued_page(request, issued, "API key rotated")

    @admin.action(description="Revoke selected keys now")
    def revoke_keys(self, request, queryset):
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")

    @admin.action(description="Suspend selected keys")
    def suspend_keys(self, request, queryset):
        for api_key in queryset:
            services.api_key_suspend(api_key=api_key)
        self.message_user(request, f"Suspended {queryset.count()} key(s).")

    @admin.action(description="Resume selected (suspended) keys")
    def resume_keys(self, request, queryset):
        for api_key in queryset:
            services.api_key_resume(api_key=api_key)
        self.message_user(request, f"Resumed {queryset.count()} key(s).")


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "tenant__name", "tenant__slug"]
    raw_id_fields = ["user"]


@admin.register(KeyAnomalyAlert)
class KeyAnomalyAlertAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "tenant",
        "api_key",
        "network",
        "key_suspended",
        "acknowledged_at",
    ]
    list_filter = ["kind", "key_suspended", "acknowledged_at"]
    search_fields = ["tenant__name", "api_key__prefix", "network"]
    list_select_related = ["tenant", "api_key"]
    actions = ["acknowledge", "resume_keys"]
    readonly_fields = [
        "created_at",
        "kind",
        "tenant",
        "api_key",
        "network",
        "details",
        "key_suspended",
        "acknowledged_at",
        "acknowledged_by",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Acknowledge selected alerts")
    def acknowledge(self, request, queryset):
        for alert in queryset:
            services.key_anomaly_alert_acknowledge(alert=alert, user=request.user)
        self.message_user(request, f"Acknowledged {queryset.count()} alert(s).")

    @admin.action(description="Resume the keys of the selected alerts")
    def resume_keys(self, request, queryset):
        for alert in queryset.select_related("api_key"):
            services.api_key_resume(api_key=alert.api_key)
        self.message_user(request, "Resumed the keys.")

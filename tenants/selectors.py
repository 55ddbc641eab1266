"""Reads for tenants and keys. Tenant-owned rows are read through functions that take the tenant."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404

from tenants.models import ApiKey, Dietitian, KeyAnomalyAlert, Tenant


def api_key_by_prefix(*, prefix: str) -> ApiKey | None:
    """The key with this public prefix and its tenant (authentication, commands), or None."""
    return ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()


def api_key_list(*, tenant: Tenant):
    return ApiKey.objects.filter(tenant=tenant).order_by("-created_at")


def api_key_get(*, tenant: Tenant, api_key_id) -> ApiKey:
    """The tenant's key; another tenant's answers 404, as if it did not exist."""
    return get_object_or_404(ApiKey.objects.select_related("tenant"), tenant=tenant, pk=api_key_id)


def key_anomaly_alert_list(*, tenant: Tenant):
    return KeyAnomalyAlert.objects.filter(tenant=tenant).select_related("api_key")


def dietitian_list(*, tenant: Tenant):
    return Dietitian.objects.filter(tenant=tenant).order_by("name", "id")


def dietitian_get(*, tenant: Tenant, dietitian_id) -> Dietitian:
    """The tenant's dietitian; another tenant's (or a malformed id) answers 404."""
    try:
        return get_object_or_404(Dietitian, tenant=tenant, pk=dietitian_id)
    except ValidationError:
        raise Http404("No such dietitian.") from None


# --- control plane (issue 7): the manager portal ----------------------------------------


def managed_tenant(*, user) -> Tenant | None:
    """The tenant a portal user manages, if any."""
    membership = getattr(user, "tenant_membership", None) if user.is_authenticated else None
    return membership.tenant if membership is not None else None

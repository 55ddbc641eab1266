"""Reads for tenants and keys. Tenant-owned rows are read through functions that take the tenant."""

from datetime import timedelta

from django.core.cache import cache
from django.shortcuts import get_object_or_404
from django.utils import timezone

from tenants.models import ApiKey, Dietitian, Tenant

LAST_USED_WRITE_INTERVAL = timedelta(minutes=1)


def api_key_by_prefix(*, prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()


def api_key_note_use(*, api_key: ApiKey, ip: str | None) -> None:
    """Records last use at most once a minute per key, so requests do not all write."""
    if not cache.add(f"apikey-used:{api_key.pk}", 1, LAST_USED_WRITE_INTERVAL.total_seconds()):
        return
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip)


def api_key_list(*, tenant: Tenant):
    return ApiKey.objects.filter(tenant=tenant).order_by("-created_at")


def dietitian_list(*, tenant: Tenant):
    return Dietitian.objects.filter(tenant=tenant).order_by("name", "id")


def dietitian_get(*, tenant: Tenant, dietitian_id) -> Dietitian:
    """The tenant's dietitian; another tenant's answers 404, as if it did not exist."""
    return get_object_or_404(Dietitian, tenant=tenant, pk=dietitian_id)


# --- control plane (issue 7): the manager portal ----------------------------------------


def api_key_get(*, tenant: Tenant, key_id) -> ApiKey:
    """The tenant's key; another tenant's answers 404, as if it did not exist."""
    return get_object_or_404(ApiKey.objects.select_related("replaces"), tenant=tenant, pk=key_id)


def managed_tenant(*, user) -> Tenant | None:
    """The tenant a portal user manages, if any."""
    membership = getattr(user, "tenant_membership", None) if user.is_authenticated else None
    return membership.tenant if membership is not None else None

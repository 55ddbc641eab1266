"""Reads of content samples. Every function takes the tenant (or the dietitian) it reads for."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from content.models import ContentSample
from tenants.models import Dietitian, Tenant


def sample_list(
    *, tenant: Tenant, dietitian_id=None, status: str | None = None
) -> QuerySet[ContentSample]:
    """The tenant's samples, newest first, optionally of one dietitian and one status."""
    samples = ContentSample.objects.filter(tenant=tenant)
    if dietitian_id is not None:
        samples = samples.filter(dietitian_id=dietitian_id)
    if status is not None:
        samples = samples.filter(status=status)
    return samples.order_by("-created_at", "id")


def sample_get(*, tenant: Tenant, sample_id) -> ContentSample:
    """The tenant's sample; another tenant's answers 404, as if it did not exist."""
    return get_object_or_404(ContentSample, tenant=tenant, pk=sample_id)


def dietitian_sample_list(
    *, dietitian: Dietitian, status: str | None = None
) -> QuerySet[ContentSample]:
    """A dietitian's own samples (the portal), without their bodies: lists never show them."""
    samples = ContentSample.objects.filter(tenant_id=dietitian.tenant_id, dietitian=dietitian)
    if status is not None:
        samples = samples.filter(status=status)
    return samples.defer("body").order_by("-created_at", "id")


def dietitian_sample_get(*, dietitian: Dietitian, sample_id) -> ContentSample:
    """One of the dietitian's own samples; anyone else's answers 404."""
    return get_object_or_404(
        ContentSample, tenant_id=dietitian.tenant_id, dietitian=dietitian, pk=sample_id
    )

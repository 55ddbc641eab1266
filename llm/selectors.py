"""Reads for the generation pipeline. Every function takes the tenant."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from content.models import ContentSample
from llm.models import GenerationRequest
from tenants.models import Dietitian, Tenant

DEFAULT_SAMPLE_COUNT = 5


def generation_list(*, tenant: Tenant, filters: dict | None = None) -> QuerySet[GenerationRequest]:
    """The tenant's requests, newest first; prompts are never loaded (nor decrypted)."""
    filters = filters or {}
    queryset = GenerationRequest.objects.filter(tenant=tenant).defer("prompt", "notes")
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("dietitian"):
        queryset = queryset.filter(dietitian_id=filters["dietitian"])
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    return queryset.order_by("-created_at", "id")


def generation_get(*, tenant: Tenant, generation_id) -> GenerationRequest:
    """The tenant's request; another tenant's answers 404, as if it did not exist."""
    return get_object_or_404(
        GenerationRequest.objects.defer("prompt", "notes"), tenant=tenant, pk=generation_id
    )


def generation_by_idempotency_key(*, tenant: Tenant, key: str) -> GenerationRequest | None:
    if not key:
        return None
    return (
        GenerationRequest.objects.defer("prompt", "notes")
        .filter(tenant=tenant, idempotency_key=key)
        .first()
    )


def dietitian_find(*, tenant: Tenant, dietitian_id) -> Dietitian | None:
    """The tenant's dietitian named in a request body, or None (another tenant's is unknown)."""
    return Dietitian.objects.filter(tenant=tenant, pk=dietitian_id).first()


def generation_active_count(*, tenant: Tenant) -> int:
    return GenerationRequest.objects.filter(
        tenant=tenant, status__in=GenerationRequest.ACTIVE_STATUSES
    ).count()


def approved_samples(
    *, tenant: Tenant, dietitian: Dietitian, sample_ids=None, limit: int = DEFAULT_SAMPLE_COUNT
) -> list[ContentSample]:
    """The dietitian's approved samples: those named (when given) or the most recent ones.

    A quarantined or rejected sample, or one of another dietitian or tenant, is never
    returned, whatever ids are asked for.
    """
    queryset = (
        ContentSample.objects.filter(
            tenant=tenant, dietitian=dietitian, status=ContentSample.Status.APPROVED
        )
        .only("id", "title", "body")
        .order_by("-created_at", "id")
    )
    if sample_ids:
        return list(queryset.filter(pk__in=list(sample_ids)))
    return list(queryset[:limit])

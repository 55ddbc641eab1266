"""Writes for tenants and API keys. The admin, the portal, the commands and the API call these."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from nutrition_pro.audit import Event, audit_event
from nutrition_pro.exceptions import InvalidInput
from tenants.keys import generate_key, hash_secret
from tenants.models import ALL_SCOPES, ApiKey, Plan, Tenant

DEFAULT_ROTATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: `plaintext` is shown once and never stored."""

    api_key: ApiKey
    plaintext: str


def _validated_scopes(scopes: list[str] | None) -> list[str]:
    if scopes is None:
        return list(ALL_SCOPES)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise InvalidInput(
            "Unknown scopes.", details={"scopes": [f"Unknown scope: {s}" for s in unknown]}
        )
    if not scopes:
        raise InvalidInput("A key needs at least one scope.", details={"scopes": ["Required."]})
    return sorted(set(scopes))


def tenant_create(
    *,
    name: str,
    slug: str | None = None,
    plan: Plan | None = None,
    requests_per_minute: int | None = None,
    monthly_token_quota: int | None = None,
) -> Tenant:
    """A new active tenant whose limits start from its plan's (then any explicit override)."""
    name = name.strip()
    if not name:
        raise InvalidInput("A tenant needs a name.", details={"name": ["Required."]})
    slug = slugify(slug or name)[:60]
    if not slug:
        raise InvalidInput("The slug is empty.", details={"slug": ["Use letters or digits."]})
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidInput("That slug is taken.", details={"slug": ["Already in use."]})
    tenant = Tenant(name=name, slug=slug, plan=plan)
    if plan is not None:
        for field in (
            "requests_per_minute",
            "monthly_token_quota",
            "monthly_cost_cap",
            "max_queued_generations",
            "log_retention_days",
        ):
            setattr(tenant, field, getattr(plan, field))
    if requests_per_minute is not None:
        tenant.requests_per_minute = requests_per_minute
    if monthly_token_quota is not None:
        tenant.monthly_token_quota = monthly_token_quota
    tenant.full_clean()
    tenant.save()
    return tenant


def api_key_issue(
    *,
    tenant: Tenant,
    name: str,
    scopes: list[str] | None = None,
    expires_at=None,
    created_by=None,
    replaces: ApiKey | None = None,
) -> IssuedKey:
    """Issues a key; the plaintext exists only in the returned value."""
    name = (name or "").strip() or "default"
    plaintext, parts = generate_key()
    api_key = ApiKey.objects.create(
        tenant=tenant,
        name=name[:100],
        prefix=parts.prefix,
        secret_hash=hash_secret(parts.secret),
        scopes=_validated_scopes(scopes),
        expires_at=expires_at,
        created_by=created_by,
        replaces=replaces,
    )
    audit_event(
        Event.API_KEY_ISSUED,
        obj=api_key,
        actor=created_by,
        data={"tenant": str(tenant.pk), "prefix": api_key.prefix, "scopes": api_key.scopes},
    )
    return IssuedKey(api_key=api_key, plaintext=plaintext)


@transaction.atomic
def api_key_rotate(
    *, api_key: ApiKey, grace: timedelta = DEFAULT_ROTATION_GRACE, rotated_by=None
) -> IssuedKey:
    """A successor with the same tenant, name and scopes; the old key lives until the grace ends."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if not api_key.is_usable():
        raise InvalidInput("Only an active key can be rotated.")
    if ApiKey.objects.filter(replaces=api_key).exists():
        raise InvalidInput("This key was already rotated.")
    if grace < timedelta(0):
        raise InvalidInput("The grace period cannot be negative.")
    now = timezone.now()
    grace_end = now + grace
    if api_key.expires_at is None or api_key.expires_at > grace_end:
        api_key.expires_at = grace_end
        api_key.save(update_fields=["expires_at"])
    issued = api_key_issue(
        tenant=api_key.tenant,
        name=api_key.name,
        scopes=api_key.scopes,
        created_by=rotated_by,
        replaces=api_key,
    )
    audit_event(
        Event.API_KEY_ROTATED,
        obj=api_key,
        actor=rotated_by,
        data={
            "tenant": str(api_key.tenant_id),
            "prefix": api_key.prefix,
            "successor": issued.api_key.prefix,
            "old_key_expires_at": api_key.expires_at.isoformat(),
        },
    )
    return issued


def api_key_revoke(*, api_key: ApiKey, revoked_by=None) -> ApiKey:
    """Revokes at once; requests with the key answer 401 from now on."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_event(
            Event.API_KEY_REVOKED,
            obj=api_key,
            actor=revoked_by,
            data={"tenant": str(api_key.tenant_id), "prefix": api_key.prefix},
        )
    return api_key

"""Writes for tenants and API keys. The admin, the portal, the commands and the API call these.

Every write that changes whether a key authenticates, or what its tenant may do, ends in
`keycache.invalidate_all()`, so the processes' caches of verified keys drop it within a second.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from nutrition_pro.audit import Event, audit_event
from nutrition_pro.exceptions import InvalidInput
from tenants.keycache import invalidate_all
from tenants.keys import generate_key, hash_secret
from tenants.models import ALL_SCOPES, ApiKey, KeyAnomalyAlert, Plan, Tenant

DEFAULT_ROTATION_GRACE = timedelta(hours=24)
MAX_ROTATION_GRACE = timedelta(days=30)
TENANT_LIMIT_FIELDS = (
    "requests_per_minute",
    "monthly_token_quota",
    "monthly_cost_cap",
    "max_queued_generations",
    "log_retention_days",
)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: `plaintext` is shown once and never stored."""

    api_key: ApiKey
    plaintext: str

    def __repr__(self) -> str:  # never print the secret by accident
        return f"IssuedKey(api_key={self.api_key!r}, plaintext='np_{self.api_key.prefix}_…')"


def _validated_scopes(scopes: list[str] | None) -> list[str]:
    if scopes is None:
        return list(ALL_SCOPES)
    if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
        raise InvalidInput("Scopes are a list of names.", details={"scopes": ["Use a list."]})
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise InvalidInput(
            "Unknown scopes.", details={"scopes": [f"Unknown scope: {s}" for s in unknown]}
        )
    if not scopes:
        raise InvalidInput("A key needs at least one scope.", details={"scopes": ["Required."]})
    return sorted(set(scopes))


def _validated_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    if timezone.is_naive(expires_at):
        raise InvalidInput(
            "The expiry needs a time zone.", details={"expires_at": ["Give an aware time."]}
        )
    if expires_at <= timezone.now():
        raise InvalidInput(
            "The expiry is in the past.", details={"expires_at": ["Must be in the future."]}
        )
    return expires_at


def _validated_rpm(value: int | None, field: str = "requests_per_minute") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput("Limits are positive whole numbers.", details={field: ["At least 1."]})
    return value


def _full_clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise InvalidInput(details=error.message_dict) from None


# --- tenants ---------------------------------------------------------------------------


def tenant_create(
    *,
    name: str,
    slug: str | None = None,
    plan: Plan | None = None,
    requests_per_minute: int | None = None,
    monthly_token_quota: int | None = None,
) -> Tenant:
    """A new active tenant whose limits start from its plan's (then any explicit override)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A tenant needs a name.", details={"name": ["Required."]})
    slug = slugify(slug or name)[:60]
    if not slug:
        raise InvalidInput("The slug is empty.", details={"slug": ["Use letters or digits."]})
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidInput("That slug is taken.", details={"slug": ["Already in use."]})
    if plan is not None and not plan.is_active:
        raise InvalidInput("That plan is retired.", details={"plan": ["Choose an active plan."]})
    tenant = Tenant(name=name, slug=slug, plan=plan)
    if plan is not None:
        for field in TENANT_LIMIT_FIELDS:
            setattr(tenant, field, getattr(plan, field))
    if requests_per_minute is not None:
        tenant.requests_per_minute = _validated_rpm(requests_per_minute)
    if monthly_token_quota is not None:
        if isinstance(monthly_token_quota, bool) or monthly_token_quota < 0:
            raise InvalidInput(details={"monthly_token_quota": ["Zero or more."]})
        tenant.monthly_token_quota = monthly_token_quota
    _full_clean(tenant)
    try:
        with transaction.atomic():
            tenant.save()
    except IntegrityError:  # a concurrent create took the slug
        raise InvalidInput("That slug is taken.", details={"slug": ["Already in use."]}) from None
    return tenant


def tenant_update(*, tenant: Tenant, **changes) -> Tenant:
    """Changes a tenant's name, plan, limits or settings; running processes see it at once."""
    allowed = {"name", "plan", "auto_suspend_keys_on_anomaly", "redact_before_provider"}
    allowed.update(TENANT_LIMIT_FIELDS)
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(details={field: ["Cannot be changed here."] for field in unknown})
    for field, value in changes.items():
        setattr(tenant, field, value)
    _full_clean(tenant)
    tenant.save(update_fields=[*changes] or None)
    invalidate_all()
    return tenant


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    """Suspends or re-activates a tenant: its keys answer 403 while it is suspended."""
    if status not in Tenant.Status.values:
        raise InvalidInput(details={"status": [f"One of {', '.join(Tenant.Status.values)}."]})
    Tenant.objects.filter(pk=tenant.pk).update(status=status)
    tenant.status = status
    invalidate_all()
    return tenant


# --- API keys --------------------------------------------------------------------------


def api_key_issue(
    *,
    tenant: Tenant,
    name: str,
    scopes: list[str] | None = None,
    expires_at=None,
    created_by=None,
    replaces: ApiKey | None = None,
    requests_per_minute: int | None = None,
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
        expires_at=_validated_expiry(expires_at),
        created_by=created_by,
        replaces=replaces,
        requests_per_minute=_validated_rpm(requests_per_minute),
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
    """A successor with the same tenant, name, scopes, limit and lifetime.

    The old key keeps working until the grace period ends (at most its own expiry), then 401.
    """
    if not isinstance(grace, timedelta) or grace < timedelta(0) or grace > MAX_ROTATION_GRACE:
        raise InvalidInput(
            "The grace period must be between 0 and 30 days.", details={"grace": ["Out of range."]}
        )
    api_key = ApiKey.objects.select_for_update().select_related("tenant").get(pk=api_key.pk)
    if not api_key.is_usable():
        raise InvalidInput("Only an active key can be rotated.")
    if ApiKey.objects.filter(replaces=api_key).exists():
        raise InvalidInput("This key was already rotated.")
    now = timezone.now()
    lifetime = api_key.expires_at - api_key.created_at if api_key.expires_at else None
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
        expires_at=now + lifetime if lifetime else None,
        requests_per_minute=api_key.requests_per_minute,
    )
    audit_event(
        Event.API_KEY_ROTATED,
        obj=api_key,
        actor=rotated_by,
        data={
            "tenant": str(api_key.tenant_id),
            "prefix": api_key.prefix,
            "successor": issued.api_key.prefix,
            "old_key_expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        },
    )
    invalidate_all()
    return issued


def api_key_revoke(*, api_key: ApiKey, revoked_by=None) -> ApiKey:
    """Revokes at once; requests with the key answer 401 from now on, in every process."""
    if api_key.revoked_at is None:
        now = timezone.now()
        changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        api_key.refresh_from_db(fields=["revoked_at"])
        if changed:
            audit_event(
                Event.API_KEY_REVOKED,
                obj=api_key,
                actor=revoked_by,
                data={"tenant": str(api_key.tenant_id), "prefix": api_key.prefix},
            )
    invalidate_all()
    return api_key


def api_key_expire(*, api_key: ApiKey, at: datetime | None = None) -> ApiKey:
    """Sets the key's expiry (now by default); from then on it answers 401."""
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise InvalidInput(details={"expires_at": ["Give an aware time."]})
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=at)
    api_key.expires_at = at
    audit_event(Event.API_KEY_EXPIRED, obj=api_key, data={"expires_at": at.isoformat()})
    invalidate_all()
    return api_key


def api_key_suspend(*, api_key: ApiKey) -> ApiKey:
    """Suspends a key (anomaly detection or an operator); `api_key_resume` undoes it."""
    if api_key.suspended_at is None:
        ApiKey.objects.filter(pk=api_key.pk, suspended_at__isnull=True).update(
            suspended_at=timezone.now()
        )
        api_key.refresh_from_db(fields=["suspended_at"])
        audit_event(Event.API_KEY_SUSPENDED, obj=api_key)
    invalidate_all()
    return api_key


def api_key_resume(*, api_key: ApiKey) -> ApiKey:
    if api_key.suspended_at is not None:
        audit_event(Event.API_KEY_RESUMED, obj=api_key)
    ApiKey.objects.filter(pk=api_key.pk).update(suspended_at=None)
    api_key.suspended_at = None
    invalidate_all()
    return api_key


_UNSET = object()


def api_key_update(
    *, api_key: ApiKey, name=_UNSET, scopes=_UNSET, expires_at=_UNSET, requests_per_minute=_UNSET
) -> ApiKey:
    """Renames a key or changes its scopes, expiry or own limit; the secret never changes."""
    fields = []
    if name is not _UNSET:
        api_key.name = ((name or "").strip() or "default")[:100]
        fields.append("name")
    if scopes is not _UNSET:
        api_key.scopes = _validated_scopes(scopes)
        fields.append("scopes")
    if expires_at is not _UNSET:
        api_key.expires_at = _validated_expiry(expires_at)
        fields.append("expires_at")
    if requests_per_minute is not _UNSET:
        api_key.requests_per_minute = _validated_rpm(requests_per_minute)
        fields.append("requests_per_minute")
    if fields:
        api_key.save(update_fields=fields)
        invalidate_all()
    return api_key


def api_key_record_use(*, api_key: ApiKey, ip: str | None) -> None:
    """Last-used time and address; the caller limits this to once a minute per key."""
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now(), last_used_ip=ip)


# --- anomaly alerts --------------------------------------------------------------------


def key_anomaly_alert_record(
    *, api_key: ApiKey, kind: str, details: dict, network: str = ""
) -> KeyAnomalyAlert | None:
    """Records an alert, suspends the key when its tenant asked for that, and mails operators.

    Returns None when this new network was already reported for the key.
    """
    from tenants.notifications import notify_key_anomaly

    with transaction.atomic():
        alert, created = _create_alert(api_key=api_key, kind=kind, details=details, network=network)
        if not created:
            return None
        if api_key.tenant.auto_suspend_keys_on_anomaly and api_key.suspended_at is None:
            api_key_suspend(api_key=api_key)
            alert.key_suspended = True
            alert.save(update_fields=["key_suspended"])
    notify_key_anomaly(alert)
    return alert


def _create_alert(*, api_key, kind, details, network):
    if kind == KeyAnomalyAlert.Kind.NEW_NETWORK:
        return KeyAnomalyAlert.objects.get_or_create(
            api_key=api_key,
            kind=kind,
            network=network,
            defaults={"tenant_id": api_key.tenant_id, "details": details},
        )
    alert = KeyAnomalyAlert.objects.create(
        api_key=api_key, tenant_id=api_key.tenant_id, kind=kind, details=details, network=network
    )
    return alert, True


def key_anomaly_alert_acknowledge(*, alert: KeyAnomalyAlert, user) -> KeyAnomalyAlert:
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert

"""The audit log: which models django-auditlog tracks, and explicit security events.

Every tracked model is declared here, by label, so that this plumbing imports no app
at module level. Changes are recorded with the acting user and the request's source
address (by `client_ip`: X-Forwarded-For counts only when a trusted proxy added it,
because any client can send the header).
"""

from __future__ import annotations

import logging

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Model label -> django-auditlog options. Never track secrets or hashes; track statuses.
AUDITED_MODELS: dict[str, dict] = {
    "auth.User": {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups"}},
    "auth.Group": {"m2m_fields": {"permissions"}},
    "otp_totp.TOTPDevice": {"include_fields": ["name", "confirmed", "user"]},
    "nutrition_pro.BackupCodeDevice": {"include_fields": ["name", "confirmed", "user"]},
    "nutrition_pro.SignInLockout": {"include_fields": ["locked_until"]},
    "tenants.Plan": {},
    "tenants.Tenant": {},
    "tenants.ApiKey": {
        # Use is tracked on the key itself; a row per request would drown the changes.
        "exclude_fields": ["secret_hash", "last_used_at", "last_used_ip"],
    },
    "tenants.Dietitian": {},
    "tenants.TenantMembership": {},
    "tenants.KeyAnomalyAlert": {"include_fields": ["acknowledged_at", "acknowledged_by"]},
    "billing.ModelPrice": {},
    "billing.Invoice": {},
    "content.ContentSample": {
        # Only the review decision: the body is personal content and stays out of the log.
        "include_fields": ["status", "reviewed_by", "reviewed_at", "dietitian", "tenant"],
    },
}


class Event:
    """Names of the explicit events (LogEntry action ACCESS, name in additional_data.event)."""

    SIGNIN_SUCCEEDED = "signin.succeeded"
    SIGNIN_FAILED = "signin.failed"
    SIGNIN_LOCKED = "signin.locked"
    SIGNED_OUT = "signout"
    MFA_ENROLLED = "mfa.enrolled"
    BACKUP_CODE_USED = "mfa.backup_code_used"
    BACKUP_CODES_REGENERATED = "mfa.backup_codes_regenerated"
    MFA_RESET = "mfa.reset"
    REAUTH_SUCCEEDED = "reauth.succeeded"
    REAUTH_FAILED = "reauth.failed"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 (an event name)
    API_KEY_ISSUED = "api_key.issued"
    API_KEY_ROTATED = "api_key.rotated"
    API_KEY_REVOKED = "api_key.revoked"
    API_KEY_EXPIRED = "api_key.expired"
    API_KEY_SUSPENDED = "api_key.suspended"
    API_KEY_RESUMED = "api_key.resumed"
    TENANT_ONBOARDED = "tenant.onboarded"
    INVOICES_ISSUED = "invoices.issued"
    CREDIT_NOTE_ISSUED = "invoice.credit_note_issued"
    INVOICE_PAID = "invoice.paid"
    GENERATION_CONTENT_VIEWED = "generation.content_viewed"


def register_audited_models() -> None:
    """Registers every model of AUDITED_MODELS that is installed (called from AppConfig.ready)."""
    for label, options in AUDITED_MODELS.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            # An app may be absent in a trimmed deployment; the audit tests require them all.
            logger.warning("audited model %s is not installed", label)
            continue
        if not auditlog.contains(model):
            auditlog.register(model, **options)


def _context() -> dict:
    try:
        return auditlog_value.get()
    except LookupError:
        return {}


def client_ip(request) -> str | None:
    """The client's address, by the project's one rule (settings.CLIENT_IP_FUNCTION).

    That rule believes X-Forwarded-For only from a trusted proxy; without the setting,
    REMOTE_ADDR alone.
    """
    if request is None:
        return None
    path = getattr(settings, "CLIENT_IP_FUNCTION", "")
    if path:
        return import_string(path)(request)
    return request.META.get("REMOTE_ADDR") or None


def audit_event(
    event: str,
    *,
    obj=None,
    actor=None,
    request=None,
    data: dict | None = None,
    object_repr: str | None = None,
) -> LogEntry:
    """Records an explicit event; actor and address default to the current request's."""
    context = _context()
    User = get_user_model()
    if actor is None:
        request_user = getattr(request, "user", None)
        if isinstance(request_user, User) and request_user.is_authenticated:
            actor = request_user
        else:
            actor = context.get("actor")
    remote_addr = client_ip(request) if request is not None else context.get("remote_addr")
    target = obj if obj is not None else actor
    if target is not None:
        content_type = ContentType.objects.get_for_model(target)
        object_pk = str(target.pk)
        repr_ = object_repr or str(target)
        object_id = target.pk if isinstance(target.pk, int) else None
    else:
        content_type = ContentType.objects.get_for_model(User)
        object_pk = ""
        repr_ = object_repr or "(no such account)"
        object_id = None
    return LogEntry.objects.create(
        content_type=content_type,
        object_pk=object_pk,
        object_id=object_id,
        object_repr=repr_,
        action=LogEntry.Action.ACCESS,
        actor=actor if isinstance(actor, User) else None,
        actor_email=getattr(actor, "email", None) or None,
        remote_addr=remote_addr,
        additional_data={"event": event, **(data or {})},
        changes_text=event,
    )


def audit_events(event: str):
    """The entries of one explicit event, newest first (for the admin and the tests)."""
    return LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, additional_data__event=event
    ).order_by("-timestamp", "-pk")


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, taking the address from `client_ip` (not the raw header).

    It also clears the request's actor and address when the request ends: the library
    leaves them in the thread's context, where a later command or task would inherit them.
    """

    def __call__(self, request):
        token = auditlog_value.set({})
        try:
            return super().__call__(request)
        finally:
            auditlog_value.reset(token)

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        return None

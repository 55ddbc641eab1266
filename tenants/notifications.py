"""E-mail to the operators about key anomalies. Names the key by prefix only, never its secret."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

logger = logging.getLogger(__name__)


def administrator_emails() -> list[str]:
    """ADMINS from the settings plus every active superuser with an address, without repeats."""
    addresses = [address for _name, address in settings.ADMINS]
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
    addresses += [email for email in superusers.values_list("email", flat=True) if email]
    return list(dict.fromkeys(addresses))


def notify_key_anomaly(alert) -> None:
    recipients = administrator_emails()
    if not recipients:
        logger.warning("key anomaly alert %s: no administrator e-mail configured", alert.pk)
        return
    api_key, tenant = alert.api_key, alert.tenant
    subject = f"[AI Nutrition-Pro] {alert.get_kind_display()} on API key np_{api_key.prefix}_…"
    lines = [
        f"Tenant: {tenant.name} ({tenant.slug})",
        f"Key: {api_key.name} (prefix {api_key.prefix})",
        f"Alert: {alert.get_kind_display()} at {alert.created_at:%Y-%m-%d %H:%M} UTC",
    ]
    for name, value in alert.details.items():
        lines.append(f"{name.replace('_', ' ').capitalize()}: {value}")
    lines.append(
        "The key was suspended automatically (tenant setting). Resume it in the admin once "
        "the tenant confirms the traffic."
        if alert.key_suspended
        else "The key is still active. Revoke or suspend it in the admin if the traffic is "
        "not the tenant's."
    )
    try:
        send_mail(subject, "\n".join(lines), None, recipients)
    except Exception:
        # The alert row is the record; a mail outage must not stop detection for other keys.
        logger.exception("key anomaly alert %s: e-mail failed", alert.pk)

"""Second factors: TOTP enrolment (with a QR code) and hashed single-use backup codes."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro.models import BackupCodeDevice

TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def mfa_required(user) -> bool:
    """Staff and tenant managers hold keys to tenants: a second factor is mandatory for them."""
    if not user.is_authenticated:
        return False
    # Reverse one-to-one accessor: no import of the tenants app from this plumbing.
    return bool(user.is_staff or user.is_superuser or hasattr(user, "tenant_membership"))


def has_confirmed_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (one per user, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def totp_secret_base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth URI as an SVG data URI (the CSP allows data: images, not inline scripts)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


@transaction.atomic
def totp_confirm(*, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirms an enrolment with a code from the app; returns fresh backup codes, or None."""
    if not device.verify_token((token or "").strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator per user: an older one is retired once the new one is confirmed.
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    return backup_codes_regenerate(user=device.user)


def backup_codes_regenerate(*, user) -> list[str]:
    device, _ = BackupCodeDevice.objects.get_or_create(
        user=user, defaults={"name": BACKUP_DEVICE_NAME, "confirmed": True}
    )
    return device.regenerate()


def backup_codes_remaining(user) -> int:
    device = BackupCodeDevice.objects.filter(user=user).first()
    return device.remaining() if device else 0


def verify_second_factor(user, token: str):
    """The confirmed device (TOTP or backup codes) that accepts the code, or None."""
    token = "".join((token or "").split())
    if not token:
        return None
    # Route by shape, so a backup code never counts as a failed TOTP attempt (and back).
    model = TOTPDevice if token.isdigit() else BackupCodeDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None

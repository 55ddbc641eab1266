"""Control-plane records: hashed backup codes (a second factor) and sign-in lockouts."""

import secrets

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.models import Device, ThrottlingMixin

BACKUP_CODE_COUNT = 10
# 10 characters of a 32-symbol alphabet without look-alikes: 50 random bits per code.
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_LENGTH = 10


def backup_code_hash(code: str) -> str:
    """A keyed hash of a normalised code; codes are random, so a fast keyed hash suffices."""
    normalised = "".join(code.split()).replace("-", "").lower()
    return salted_hmac("nutrition_pro.backup_code", normalised, algorithm="sha256").hexdigest()


class BackupCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes of a user, stored only as keyed hashes (unlike otp_static)."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "backup-code device"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_BACKUP_CODE_THROTTLE_FACTOR", 1)

    @transaction.atomic
    def regenerate(self) -> list[str]:
        """Replaces every code; the plaintext codes exist only in the returned list."""
        self.codes.all().delete()
        plaintext = [
            "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
            for _ in range(BACKUP_CODE_COUNT)
        ]
        BackupCode.objects.bulk_create(
            BackupCode(device=self, code_hash=backup_code_hash(code)) for code in plaintext
        )
        return [f"{code[:5]}-{code[5:]}" for code in plaintext]

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed or not isinstance(token, str):
            return False
        with transaction.atomic():
            # The row lock makes a code single-use even under concurrent sign-ins.
            code = (
                self.codes.select_for_update()
                .filter(code_hash=backup_code_hash(token), used_at__isnull=True)
                .first()
            )
            if code is None:
                self.throttle_increment()
                return False
            code.used_at = timezone.now()
            code.save(update_fields=["used_at"])
        self.throttle_reset()
        return True


class BackupCode(models.Model):
    """One backup code's keyed hash; used_at is set when it is spent."""

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "code_hash"], name="backup_code_unique"),
        ]

    def __str__(self) -> str:
        return f"backup code of {self.device_id} ({'used' if self.used_at else 'unused'})"


class SignInLockout(models.Model):
    """Recent failed sign-ins of one account name (existing or not) and any lock they caused."""

    username = models.CharField(max_length=150, unique=True)
    failure_count = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sign-in lockout"
        ordering = ["-last_failure_at"]

    def __str__(self) -> str:
        return self.username

    def is_locked(self, at=None) -> bool:
        at = at or timezone.now()
        return self.locked_until is not None and self.locked_until > at

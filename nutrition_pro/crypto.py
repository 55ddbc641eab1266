"""Field encryption: MultiFernet over FIELD_ENCRYPTION_KEYS (the first encrypts, all decrypt)."""

from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


@cache
def field_cipher() -> MultiFernet:
    return MultiFernet([Fernet(key.strip()) for key in settings.FIELD_ENCRYPTION_KEYS])


@receiver(setting_changed)
def _reset_cipher(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        field_cipher.cache_clear()

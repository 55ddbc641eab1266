"""Removes a user's second factors (lost phone and lost backup codes); they enrol again at
their next sign-in. Recorded in the audit log."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro.audit import Event, audit_event
from nutrition_pro.models import BackupCodeDevice
from nutrition_pro.signin import signin_failures_clear


class Command(BaseCommand):
    help = "Remove a user's TOTP device and backup codes so they enrol again at next sign-in."

    def add_arguments(self, parser):
        parser.add_argument("username")

    @transaction.atomic
    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += BackupCodeDevice.objects.filter(user=user).delete()[0]
        signin_failures_clear(username=username)
        audit_event(Event.MFA_RESET, obj=user, data={"by": "manage.py mfa_reset"})
        self.stdout.write(f"Removed {removed} device record(s); {username} enrols at next sign-in.")

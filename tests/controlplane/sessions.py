"""Sessions as the control plane makes them, for tests of other areas' admin pages.

The sign-in pages themselves are tested in tests/controlplane; here a session is set up
directly in the state they leave it: signed in, second factor passed, just confirmed.
"""

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro import signin


def verified_client(user, client: Client | None = None) -> Client:
    client = client or Client()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[signin.REAUTH_SESSION_KEY] = time.time()
    session[signin.ACTIVITY_SESSION_KEY] = time.time()
    session.save()
    return client

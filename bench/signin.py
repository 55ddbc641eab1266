"""Sign-in cost: refused (throttled) attempts, wrong passwords and full MFA sign-ins per second.

In-process (Django test client) on the configured database and Redis, with the production
password hasher. A throwaway staff user with a TOTP device is created and deleted afterwards.
Prints attempts per second of each path and the SQL queries of one refused attempt: a
flood of throttled attempts must cost the database nothing.

Knobs (environment): BENCH_SIGNIN_ATTEMPTS (per path, default 200).
"""

import os
import secrets
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from nutrition_pro.models import SignInLockout

PASSWORD = "bench " + secrets.token_urlsafe(12)


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.1f}/s ({seconds * 1000 / count:.2f} ms each)"


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    step = max(int((time.time() - device.t0) // device.step), device.last_t + 1)
    return f"{hotp(device.bin_key, step, digits=6):06d}"


def run() -> None:
    attempts = int(os.environ.get("BENCH_SIGNIN_ATTEMPTS", "200"))
    name = f"bench-signin-{secrets.token_hex(4)}"
    user = get_user_model().objects.create_user(name, password=PASSWORD, is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="198.18.0.1")
    try:
        with override_settings(SIGNIN_RATE_PER_IP="1/5m"):
            client.post("/portal/login/", {"username": "x", "password": "y"})
            started = time.perf_counter()
            for i in range(attempts):
                client.post("/portal/login/", {"username": f"n{i}", "password": "y"})
            refused = time.perf_counter() - started
            with CaptureQueriesContext(connection) as queries:
                client.post("/portal/login/", {"username": "again", "password": "y"})
        print(f"  throttled attempt:          {_rate(attempts, refused)}")
        print(f"  SQL queries of one throttled attempt: {len(queries)}")

        wrong = max(10, attempts // 10)
        with override_settings(
            SIGNIN_RATE_PER_IP="100000/5m",
            SIGNIN_RATE_PER_USERNAME="100000/5m",
            SIGNIN_LOCKOUT_THRESHOLD=10**9,
        ):
            other = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="198.18.0.2")
            started = time.perf_counter()
            for _ in range(wrong):
                other.post("/portal/login/", {"username": name, "password": "wrong"})
            failed = time.perf_counter() - started
            print(f"  wrong password (hashed):    {_rate(wrong, failed)}")
            SignInLockout.objects.filter(username=name).delete()

            full = max(5, attempts // 40)
            started = time.perf_counter()
            for i in range(full):
                fresh = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="198.18.0.3")
                fresh.post("/portal/login/", {"username": name, "password": PASSWORD})
                response = fresh.post("/portal/login/verify/", {"code": _code(device)})
                if response.status_code != 302:
                    raise RuntimeError("bench sign-in failed")
                # One TOTP code per 30-second step: move the device's clock on, as a new
                # step would, instead of waiting.
                TOTPDevice.objects.filter(pk=device.pk).update(
                    last_t=0, t0=device.t0 - 30 * (i + 1)
                )
            signed_in = time.perf_counter() - started
            print(f"  full sign-in (password + TOTP): {_rate(full, signed_in)}")
    finally:
        SignInLockout.objects.filter(username__startswith="n").filter(
            username__regex=r"^n[0-9]+$"
        ).delete()
        SignInLockout.objects.filter(username__in=[name, "x", "again"]).delete()
        user.delete()

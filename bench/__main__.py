"""Runs the benchmarks and prints their figures: `make bench` (or `python -m bench NAME ...`)."""

import importlib
import os
import secrets
import sys

import django

BENCHMARKS: list[str] = [
    "api_auth",  # tenants (issue 3)
    "billing",  # issue 6
    "content_screen",  # content: injection screen time per sample
    "generation",  # llm (issue 5)
    "signin",  # control plane (issue 7)
]


def production_like_environment() -> None:
    """Production settings (DEBUG off) with throw-away secrets, unless the caller set them.

    Figures must describe what production runs: with DEBUG on, Django wraps every cursor to
    record its queries, which alone costs a fifth of a worker's CPU per generation. The
    servers and workers a benchmark starts inherit this environment.
    """
    from cryptography.fernet import Fernet

    defaults = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "API_KEY_PEPPER": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # the benchmark talks plain HTTP on loopback
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


def main(names: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nutrition_pro.settings")
    production_like_environment()
    django.setup()
    for name in names or BENCHMARKS:
        module = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        print(f"== {module.__name__}: {(module.__doc__ or '').strip().splitlines()[0]}")
        module.run()


if __name__ == "__main__":
    main(sys.argv[1:])

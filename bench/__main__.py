"""Runs the benchmarks and prints their figures: `make bench` (or `python -m bench NAME ...`)."""

import importlib
import os
import sys

import django

BENCHMARKS: list[str] = [
    "api_auth",  # tenants (issue 3)
    "billing",  # issue 6
    "content_screen",  # content: injection screen time per sample
    "generation",  # llm (issue 5)
    "signin",  # control plane (issue 7)
]


def main(names: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nutrition_pro.settings")
    django.setup()
    for name in names or BENCHMARKS:
        module = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        print(f"== {module.__name__}: {(module.__doc__ or '').strip().splitlines()[0]}")
        module.run()


if __name__ == "__main__":
    main(sys.argv[1:])

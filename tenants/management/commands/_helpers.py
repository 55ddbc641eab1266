"""Shared bits of the tenants management commands."""

from django.core.management.base import CommandError

from nutrition_pro.exceptions import ServiceError


def service_error(error: ServiceError) -> CommandError:
    """A service refusal as a one-line command error naming the fields at fault."""
    parts = [error.message]
    for field, problems in (error.details or {}).items():
        parts.append(f"{field}: {'; '.join(str(problem) for problem in problems)}")
    return CommandError(" ".join(parts))


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_negative_number(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return value

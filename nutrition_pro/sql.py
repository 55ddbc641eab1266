"""Helpers for the few hand-written statements on hot paths (see llm/services, billing/services).

Raw SQL skips the ORM's conversions, on the way in and out; these put them back so the
same statement is right on PostgreSQL and on SQLite (the demo database), which stores
UUIDs as hex text, datetimes as naive UTC text and decimals as floats.
"""

from datetime import date
from decimal import Decimal

from django.db import connection


def param(model, field_name: str, value):
    """`value` as the ORM would bind it for `model.field_name`."""
    return model._meta.get_field(field_name).get_db_prep_value(value, connection, prepared=False)


def exact_decimal(value, model, field_name: str) -> Decimal | None:
    """A decimal column read by raw SQL, as the ORM would give it for `model.field_name`."""
    if value is None or isinstance(value, Decimal):
        return value
    places = model._meta.get_field(field_name).decimal_places
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))


def as_date(value) -> date:
    """A date column read by raw SQL: PostgreSQL gives a date, SQLite the ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(value)

"""Issues the invoices of a month (default: the last closed one); a second run changes nothing."""

import re
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing import services
from billing.models import period_label
from nutrition_pro.exceptions import ServiceError


def parse_period(value: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise CommandError(f"--period must be YYYY-MM, not {value!r}.")
    return date(int(match[1]), int(match[2]), 1)


class Command(BaseCommand):
    help = "Issue the invoices of a month from the usage ledger (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM (default: the last closed month)")

    def handle(self, *args, period: str | None, **options):
        month = parse_period(period) if period else services.last_closed_period()
        try:
            result = services.invoices_issue(period=month)
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{period_label(result.period)}: issued {result.issued} invoices totalling "
            f"{result.total:.2f} ({result.already_issued} already issued)."
        )

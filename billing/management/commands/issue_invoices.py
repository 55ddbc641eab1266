"""Issues the invoices of a month (default: the last closed one); a second run changes nothing."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing import services
from billing.models import period_label, period_parse
from nutrition_pro.exceptions import ServiceError


def parse_period(value: str) -> date:
    period = period_parse(value)
    if period is None:
        raise CommandError(f"--period must be YYYY-MM, not {value!r}.")
    return period


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

"""Grants the least privilege the running service needs to a PostgreSQL role (threat T4).

The service connects as this role; migrations run as the schema owner. The role may read and
write rows, never change the schema, and never delete from the append-only tables (the usage
ledger and the audit log; their triggers also refuse updates that would rewrite history).
Idempotent: run it after every `migrate`, as the owner.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# Rows that are history: nobody deletes them, not even the application.
APPEND_ONLY_TABLES = ("billing_usagerecord", "auditlog_logentry")


def app_role_statements(role: str, database: str) -> list[str]:
    quote = connection.ops.quote_name
    role_q = quote(role)
    statements = [
        f"REVOKE ALL ON DATABASE {quote(database)} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {role_q}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA public FROM {role_q}",
        f"GRANT USAGE ON SCHEMA public TO {role_q}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role_q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role_q}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role_q}",
    ]
    statements += [f"REVOKE DELETE ON {quote(table)} FROM {role_q}" for table in APPEND_ONLY_TABLES]
    return statements


class Command(BaseCommand):
    help = "Grant a PostgreSQL role the least privilege the service needs (run as the owner)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="An existing login role the service connects as.")
        parser.add_argument("--print", action="store_true", help="Print the SQL, run nothing.")

    def handle(self, *args, role: str, print: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles apply to PostgreSQL only.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"Role {role!r} does not exist; create it first.")
        statements = app_role_statements(role, connection.settings_dict["NAME"])
        if print:
            for statement in statements:
                self.stdout.write(statement + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(self.style.SUCCESS(f"Granted the service's privileges to {role}."))

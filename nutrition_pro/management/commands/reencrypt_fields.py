"""Re-encrypts every encrypted column under the first (newest) FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from nutrition_pro.crypto import field_cipher
from nutrition_pro.fields import encrypted_fields


class Command(BaseCommand):
    help = "Re-encrypt stored values under the newest key, so older keys can be retired."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        cipher = field_cipher()
        total = 0
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        for model, names in encrypted_fields():
            table = connection.ops.quote_name(model._meta.db_table)
            pk = model._meta.pk
            pk_column = connection.ops.quote_name(pk.column)
            columns = [model._meta.get_field(n).column for n in names]
            quoted = [connection.ops.quote_name(c) for c in columns]
            last = None
            while True:
                # Raw column values: the ORM would hand back plaintext.
                where = f"WHERE {pk_column} > %s " if last is not None else ""
                params = [last] if last is not None else []
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {pk_column}, {', '.join(quoted)} FROM {table} {where}"  # noqa: S608
                        f"ORDER BY {pk_column} LIMIT %s{lock}",
                        [*params, batch_size],
                    )
                    rows = cursor.fetchall()
                    for row in rows:
                        values = [
                            None if v is None else cipher.rotate(v.encode("ascii")).decode("ascii")
                            for v in row[1:]
                        ]
                        assignments = ", ".join(f"{q} = %s" for q in quoted)
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608
                            [*values, row[0]],
                        )
                total += len(rows)
                if len(rows) < batch_size:
                    break
                last = rows[-1][0]
            self.stdout.write(f"{model._meta.label}: re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} rows re-encrypted under the newest key."))

"""A sample's dietitian must belong to the sample's tenant, enforced by the database.

PostgreSQL: a composite foreign key (tenant_id, dietitian_id) -> tenants_dietitian(tenant_id, id),
backed by the unique constraint `dietitian_tenant_id_unique`. SQLite (`make run`) skips it: the
services check the same rule there.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE content_contentsample
    ADD CONSTRAINT content_sample_dietitian_same_tenant
    FOREIGN KEY (tenant_id, dietitian_id)
    REFERENCES tenants_dietitian (tenant_id, id)
    ON DELETE CASCADE
    DEFERRABLE INITIALLY DEFERRED;
"""
BACKWARD = """
ALTER TABLE content_contentsample DROP CONSTRAINT content_sample_dietitian_same_tenant;
"""


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on databases other than PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_sample_constraints"),
        ("tenants", "0001_initial"),
    ]

    operations = [PostgresOnlySQL(sql=FORWARD, reverse_sql=BACKWARD)]

"""A sample's dietitian must belong to the sample's tenant, enforced by the database.

PostgreSQL: a composite foreign key (tenant_id, dietitian_id) -> tenants_dietitian(tenant_id, id),
backed by the unique constraint `dietitian_tenant_id_unique`. SQLite (`make run`) skips it: the
services check the same rule there.
"""

from django.db import migrations

from nutrition_pro.migration_operations import PostgresOnlySQL

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



class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_sample_constraints"),
        ("tenants", "0001_initial"),
    ]

    operations = [PostgresOnlySQL(sql=FORWARD, reverse_sql=BACKWARD)]

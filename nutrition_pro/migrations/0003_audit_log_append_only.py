"""The database keeps the audit log append-only (PostgreSQL): no edit, no delete.

The one change admitted is the one Django makes itself when a user is deleted: the actor
of their entries becomes NULL (the entry keeps `actor_email`). Errors are raised with
SQLSTATE 23001 (restrict_violation), an IntegrityError in Django. TRUNCATE is not
covered: it needs table ownership, which the application role must not have in
production. On SQLite (`make run`) this does nothing.
"""

from django.db import migrations

from nutrition_pro.migration_operations import PostgresOnlySQL

FORWARD = """
CREATE OR REPLACE FUNCTION nutrition_pro_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER auditlog_logentry_append_only
    BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION nutrition_pro_audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS auditlog_logentry_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS nutrition_pro_audit_append_only();
"""



class Migration(migrations.Migration):
    dependencies = [
        ("nutrition_pro", "0002_roles"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [PostgresOnlySQL(FORWARD, BACKWARD)]

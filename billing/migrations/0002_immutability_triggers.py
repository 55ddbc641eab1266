"""The database itself keeps the ledger append-only and issued invoices frozen (PostgreSQL).

Errors are raised with SQLSTATE 23001 (restrict_violation), which Django surfaces as an
IntegrityError. TRUNCATE is not covered: it needs table ownership, which the application
role must not have in production (see docs/billing.md). On SQLite (`make run`) these
operations do nothing.
"""

from django.db import migrations

from nutrition_pro.migration_operations import PostgresOnlySQL

LEDGER_FORWARD = """
CREATE OR REPLACE FUNCTION billing_refuse_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing_usagerecord is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER billing_usagerecord_append_only
    BEFORE UPDATE OR DELETE ON billing_usagerecord
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_ledger_change();
"""
LEDGER_BACKWARD = """
DROP TRIGGER IF EXISTS billing_usagerecord_append_only ON billing_usagerecord;
DROP FUNCTION IF EXISTS billing_refuse_ledger_change();
"""

INVOICE_FORWARD = """
CREATE OR REPLACE FUNCTION billing_guard_issued_invoice() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is %: it cannot be deleted', OLD.number, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    -- Once issued, only the status moves on (issued -> paid or void, paid -> void).
    IF (to_jsonb(NEW) - 'status' - 'paid_at') IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'paid_at')
       OR NOT (
            NEW.status = OLD.status
            OR (OLD.status = 'issued' AND NEW.status IN ('paid', 'void'))
            OR (OLD.status = 'paid' AND NEW.status = 'void')
       )
       OR (NEW.paid_at IS DISTINCT FROM OLD.paid_at
           AND NOT (OLD.status = 'issued' AND NEW.status = 'paid'))
    THEN
        RAISE EXCEPTION 'invoice % is %: it is immutable (issue a credit note)',
            OLD.number, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_invoice_immutable_once_issued
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_guard_issued_invoice();

CREATE OR REPLACE FUNCTION billing_guard_invoice_lines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    frozen boolean;
BEGIN
    SELECT bool_or(status <> 'draft') INTO frozen FROM billing_invoice
     WHERE id IN (
        CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN OLD.invoice_id END,
        CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW.invoice_id END
     );
    IF frozen THEN
        RAISE EXCEPTION 'the lines of an issued invoice are immutable: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER billing_invoiceline_immutable_once_issued
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_guard_invoice_lines();
"""
INVOICE_BACKWARD = """
DROP TRIGGER IF EXISTS billing_invoiceline_immutable_once_issued ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_guard_invoice_lines();
DROP TRIGGER IF EXISTS billing_invoice_immutable_once_issued ON billing_invoice;
DROP FUNCTION IF EXISTS billing_guard_issued_invoice();
"""



class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        PostgresOnlySQL(LEDGER_FORWARD, LEDGER_BACKWARD),
        PostgresOnlySQL(INVOICE_FORWARD, INVOICE_BACKWARD),
    ]

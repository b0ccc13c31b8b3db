-- Least privilege for Harken's application role on PostgreSQL.
--
-- Two roles: the OWNER owns the tables and runs `harken migrate`; the APPLICATION role
-- is the one `harken serve`, `harken worker` and `harken tick` connect as. The
-- application role may read and write the domain tables, but on the audit trail
-- (core_auditevent) it may only SELECT and INSERT: no UPDATE, no DELETE, no TRUNCATE.
-- The append-only trigger of core migration 0002 refuses UPDATE and DELETE for
-- every role; these grants refuse them (and TRUNCATE, which no row trigger sees)
-- before any trigger runs.
--
-- Run it as the owner after every `harken migrate` (it is idempotent):
--
--   psql -v ON_ERROR_STOP=1 -v app_role=harken_app \
--        -d "$OWNER_DATABASE_URL" -f src/harken/core/sql/least_privilege.sql
--
-- docs/deploy.md describes the two roles; tests/core/test_backup.py
-- (test_the_application_role_may_only_read_and_append_the_audit_trail) runs this file.

GRANT CONNECT ON DATABASE :"DBNAME" TO :"app_role";
GRANT USAGE ON SCHEMA public TO :"app_role";

-- The domain tables: read and write, never TRUNCATE, never change the schema.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM :"app_role";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- The audit trail: append and read only.
REVOKE ALL ON core_auditevent FROM :"app_role";
GRANT SELECT, INSERT ON core_auditevent TO :"app_role";

-- Tables and sequences later migrations create (run by the owner) get the same
-- rights; run this file again after migrating so the audit table stays narrowed.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app_role";

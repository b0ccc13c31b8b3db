"""On PostgreSQL, the database itself refuses UPDATE and DELETE of custody events: the
chain of custody only grows (the model refuses them too, on every database)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION harken_custody_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'property_custodyevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS property_custodyevent_append_only ON property_custodyevent;
CREATE TRIGGER property_custodyevent_append_only
    BEFORE UPDATE OR DELETE ON property_custodyevent
    FOR EACH ROW EXECUTE FUNCTION harken_custody_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS property_custodyevent_append_only ON property_custodyevent;
DROP FUNCTION IF EXISTS harken_custody_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("property", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]

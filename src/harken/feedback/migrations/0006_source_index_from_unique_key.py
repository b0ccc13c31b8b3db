"""Drop the item table's index on source alone: the unique (source, dedupe_key) key leads
with the source and serves the same look-ups, and a large import no longer updates it.

Only the index goes (SQLite would otherwise copy the whole table to alter the field)."""

import django.db.models.deletion
from django.db import migrations, models

# Django's name for the ForeignKey's index, the same on SQLite and PostgreSQL.
SOURCE_INDEX = "feedback_feedbackitem_source_id_291bc1c8"


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_overdue_count_reads_the_resolve_index_alone"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="feedbackitem",
                    name="source",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="feedback.perceptionsource",
                        verbose_name="source",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{SOURCE_INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX IF NOT EXISTS "{SOURCE_INDEX}" '
                        'ON "feedback_feedbackitem" ("source_id")'
                    ),
                ),
            ],
        ),
    ]

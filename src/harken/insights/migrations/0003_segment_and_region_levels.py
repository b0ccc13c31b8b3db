"""Rollup levels 4 (kind × customer segment) and 5 (kind × region), counted from the
base rows that are already there: the dashboard's per-segment objectives and any
filter by segment or region read a few rows per month instead of the finest level."""

from django.db import migrations


def count_new_levels(apps, schema_editor):
    from harken.insights.rollups import count_levels

    count_levels((4, 5))


def drop_new_levels(apps, schema_editor):
    apps.get_model("insights", "RollupCell").objects.filter(level__in=(4, 5)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0002_rollup_levels"),
    ]

    operations = [
        migrations.RunPython(count_new_levels, drop_new_levels),
    ]

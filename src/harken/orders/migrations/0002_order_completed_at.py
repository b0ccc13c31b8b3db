"""When an order was completed (after-delivery surveys invite from it). Orders completed
before the field existed take the time of their last change, which for a completed order
is the completion itself unless it was edited later."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for order in Order.objects.filter(status="completed", completed_at__isnull=True).only(
        "pk", "updated_at"
    ):
        Order.objects.filter(pk=order.pk).update(completed_at=order.updated_at)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="completed_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="completed at"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]

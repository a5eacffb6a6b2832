from django.db import migrations

from telemetria.storage.schema import add_since_and_month_resets, drop_since_and_month_resets


class Migration(migrations.Migration):
    dependencies = [
        ("telemetria", "0001_initial"),
    ]

    operations = [
        # Pending log: earliest reading per logged batch (real-time reads append to the
        # stored day instead of recomputing it); per-month counter-reset adjustment
        # (12-month consumption reads monthly rows).
        migrations.RunPython(add_since_and_month_resets, drop_since_and_month_resets),
    ]

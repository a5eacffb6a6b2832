"""Consumption totals per (conta, gateway, tipo, unidade) and local day / month, and per
(conta, tipo, unidade) and day, written by the rollup job (telemetria.storage.totals):
plain tables on both back ends, filled here from the stored day rows (days still pending
are totalled when the rollup job claims them)."""

from django.db import migrations

from telemetria.storage.totals import TOTALS_DDL, TOTALS_DROP_DDL, rebuild_totals


def create_totals(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        for statement in TOTALS_DDL:
            cur.execute(statement)
        rebuild_totals(cur)


def drop_totals(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        for statement in TOTALS_DROP_DDL:
            cur.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("telemetria", "0006_readings_conta_time_device_idx"),
        ("dispositivos", "0005_search_trigram_indexes"),
    ]

    operations = [migrations.RunPython(create_totals, drop_totals)]

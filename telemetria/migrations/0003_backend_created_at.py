from django.db import migrations


class Migration(migrations.Migration):
    """One name for "created at" (docs/naming.md): the storage back-end row's column
    follows the other models' `created_at`."""

    dependencies = [
        ("telemetria", "0002_pending_since_month_resets"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE tds_new_storage_backend RENAME COLUMN criado_em TO created_at",
            reverse_sql="ALTER TABLE tds_new_storage_backend RENAME COLUMN created_at TO criado_em",
        ),
        # The model is unmanaged: this only moves Django's state along.
        migrations.RenameField("backendarmazenamento", "criado_em", "created_at"),
    ]

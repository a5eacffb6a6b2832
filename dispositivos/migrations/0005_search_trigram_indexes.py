"""Trigram (pg_trgm) GIN indexes for the registry's substring searches (`icontains`, which
Django writes as UPPER(col) LIKE UPPER('%q%')): without them a search over an account of
80,000 devices reads every device (bench/big_account.py --full). pg_trgm is in PostgreSQL's
standard contrib; where the extension cannot be created (not installed, no privilege) the
indexes are skipped and searching still works, by a scan."""

from django.db import DatabaseError, migrations, transaction

INDEXES = [
    ("disp_codigo_trgm_idx", "tds_new_dispositivo", "codigo"),
    ("disp_nome_trgm_idx", "tds_new_dispositivo", "nome"),
    ("gw_codigo_trgm_idx", "tds_new_gateway", "codigo"),
    ("gw_nome_trgm_idx", "tds_new_gateway", "nome"),
    ("gw_mac_trgm_idx", "tds_new_gateway", "mac"),
]


def trigram_available(schema_editor) -> bool:
    """Creates pg_trgm if it can (in a savepoint: a failure leaves the migration usable)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return False
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return False
    return True


def create(apps, schema_editor):
    if not trigram_available(schema_editor):
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table}"
            f" USING gin (upper({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("dispositivos", "0004_merge_simulado_and_modbus")]

    operations = [migrations.RunPython(create, drop)]

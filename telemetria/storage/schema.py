"""DDL of the time-series store, run by the telemetria migrations only.

The readings table, the pending-bucket log and the reset table are the same on both back
ends; the daily/monthly aggregates are tables (native) or continuous aggregates
(TimescaleDB) with the same name and columns, so every read query is shared.
"""

from . import native, timescale
from .backend import BACKEND_TABLE, backend_for, choose_backend, record_backend
from .tables import DAILY, MONTH_RESETS, PENDING, READINGS, RESETS

READINGS_COLUMNS_DDL = """
    time timestamptz NOT NULL,
    conta_id bigint NOT NULL,
    gateway_id bigint NOT NULL,
    dispositivo_id bigint NOT NULL,
    valor numeric(15, 4) NOT NULL,
    unidade varchar(16) NOT NULL DEFAULT '',
    payload_raw jsonb,
    PRIMARY KEY (dispositivo_id, time)
"""

BACKEND_DDL = f"""CREATE TABLE {BACKEND_TABLE} (
    id bigserial PRIMARY KEY,
    nome varchar(16) NOT NULL,
    modo varchar(8) NOT NULL,
    versao_extensao varchar(32) NOT NULL DEFAULT '',
    criado_em timestamptz NOT NULL DEFAULT now()  -- created_at since migration 0003
)"""

SHARED_DDL = [
    f"CREATE INDEX {READINGS}_conta_time_idx ON {READINGS} (conta_id, time DESC)",
    # Append-only log written by insert_readings in the caller's transaction; the rollup
    # job claims rows with DELETE ... RETURNING. No unique key: writers never wait on it.
    f"""CREATE TABLE {PENDING} (
        id bigserial PRIMARY KEY,
        dispositivo_id bigint NOT NULL,
        bucket timestamptz NOT NULL
    )""",
    f"CREATE INDEX {PENDING}_disp_bucket_idx ON {PENDING} (dispositivo_id, bucket)",
    # Sum of the previous value at every counter reset inside a local day, for the days
    # that have one: within-day consumption = last - first + ajuste.
    f"""CREATE TABLE {RESETS} (
        dispositivo_id bigint NOT NULL,
        bucket timestamptz NOT NULL,
        ajuste numeric NOT NULL,
        PRIMARY KEY (dispositivo_id, bucket)
    )""",
]


def add_since_and_month_resets(apps, schema_editor):
    """Migration 0002: the pending log records the earliest reading of each logged batch
    (`desde`; NULL = unknown, the day is recomputed from raw), and the per-month reset
    adjustment, filled from the stored daily rows."""
    from .aggregates import month_resets
    from .sql import tz_literal

    months = f"SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz_literal()}) AS bucket FROM {DAILY}"
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {PENDING} ADD COLUMN desde timestamptz")
        cur.execute(
            f"""CREATE TABLE {MONTH_RESETS} (
                dispositivo_id bigint NOT NULL,
                bucket timestamptz NOT NULL,
                ajuste numeric NOT NULL,
                PRIMARY KEY (dispositivo_id, bucket)
            )"""
        )
        cur.execute(
            f"""INSERT INTO {MONTH_RESETS} (dispositivo_id, bucket, ajuste)
                SELECT dispositivo_id, bucket, ajuste FROM ({month_resets(months)}) AS m
                WHERE ajuste <> 0"""
        )


def drop_since_and_month_resets(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {MONTH_RESETS}")
        cur.execute(f"ALTER TABLE {PENDING} DROP COLUMN IF EXISTS desde")


def create_storage(apps, schema_editor):
    nome, versao = choose_backend(schema_editor)
    with schema_editor.connection.cursor() as cur:
        cur.execute(BACKEND_DDL)
        backend_for(nome).create_schema(cur, READINGS_COLUMNS_DDL)
        for statement in SHARED_DDL:
            cur.execute(statement)
    record_backend(schema_editor, nome=nome, versao=versao)


DROP_DDL = [
    f"DROP TABLE IF EXISTS {BACKEND_TABLE}",
    f"DROP TABLE IF EXISTS {RESETS}",
    f"DROP TABLE IF EXISTS {PENDING}",
]


def drop_storage(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        for statement in DROP_DDL:
            cur.execute(statement)
        for backend in (timescale.BACKEND, native.BACKEND):  # whichever was created
            backend.drop_schema(cur)

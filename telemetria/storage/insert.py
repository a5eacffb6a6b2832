"""Batch insert of readings: COPY into a per-connection staging table, then one
`INSERT ... SELECT ... ON CONFLICT (dispositivo_id, time) DO NOTHING` that also logs the
touched (device, local day) buckets for the rollup job. Runs on Django's connection, in
the caller's transaction."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from psycopg.types.json import Jsonb

from .tables import PENDING, READING_COLUMNS, READINGS, STAGING

# Largest |valor| numeric(15, 4) holds.
VALOR_LIMIT = Decimal("1e11")


class ReadingRow(NamedTuple):
    time: datetime  # timezone-aware
    conta_id: int
    gateway_id: int
    dispositivo_id: int
    valor: Decimal
    unidade: str
    payload_raw: dict | None


class InsertResult(NamedTuple):
    inserted: int
    duplicates: int  # within the batch or already stored


_COLUMNS = ", ".join(READING_COLUMNS)
_STAGING_DDL = f"""CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (
    time timestamptz NOT NULL, conta_id bigint NOT NULL, gateway_id bigint NOT NULL,
    dispositivo_id bigint NOT NULL, valor numeric(15, 4) NOT NULL,
    unidade varchar(16) NOT NULL, payload_raw jsonb)"""
_COPY = f"COPY {STAGING} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ["timestamptz", "int8", "int8", "int8", "numeric", "varchar", "jsonb"]
_INSERT = f"""
WITH ins AS (
    INSERT INTO {READINGS} ({_COLUMNS})
    SELECT {_COLUMNS} FROM {STAGING}
    ON CONFLICT (dispositivo_id, time) DO NOTHING
    RETURNING dispositivo_id, time
), pending AS (
    INSERT INTO {PENDING} (dispositivo_id, bucket)
    SELECT DISTINCT dispositivo_id, date_trunc('day', time, %(tz)s) FROM ins
)
SELECT count(*) FROM ins
"""


def check_row(row: ReadingRow) -> None:
    """Raise ValueError naming the field for a row the table would refuse."""
    if row.time.tzinfo is None or row.time.utcoffset() is None:
        raise ValueError(f"time: {row.time!r} has no time zone")
    if not isinstance(row.valor, Decimal) or not row.valor.is_finite():
        raise ValueError(f"valor: {row.valor!r} is not a finite Decimal")
    if abs(row.valor) >= VALOR_LIMIT:
        raise ValueError(f"valor: {row.valor} does not fit numeric(15, 4)")
    if len(row.unidade or "") > 16:
        raise ValueError(f"unidade: {row.unidade!r} is longer than 16 characters")


def insert_readings(rows: Sequence[ReadingRow]) -> InsertResult:
    """Store a batch; a reading already stored (same dispositivo and time) is a duplicate.

    Within the batch the first row for a (dispositivo_id, time) wins. Raises ValueError
    (nothing written) when a row is invalid.
    """
    unique: dict[tuple[int, datetime], ReadingRow] = {}
    for row in rows:
        check_row(row)
        unique.setdefault((row.dispositivo_id, row.time), row)
    if not unique:
        return InsertResult(inserted=0, duplicates=len(rows))

    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        cur.execute(_STAGING_DDL)
        cur.execute(f"TRUNCATE {STAGING}")
        with cur.copy(_COPY) as copy:
            copy.set_types(_COPY_TYPES)
            for row in unique.values():
                copy.write_row(
                    (
                        row.time,
                        row.conta_id,
                        row.gateway_id,
                        row.dispositivo_id,
                        row.valor,
                        row.unidade or "",
                        None if row.payload_raw is None else Jsonb(row.payload_raw),
                    )
                )
        cur.execute(_INSERT, {"tz": settings.TIME_ZONE})
        inserted = cur.fetchone()[0]
    return InsertResult(inserted=inserted, duplicates=len(rows) - inserted)

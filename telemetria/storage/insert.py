"""Batch insert of readings on Django's connection, in the caller's transaction.

COPY straight into the table under a savepoint; when the batch holds a key already
stored (redelivery), fall back to COPY into a per-connection staging table and one
`INSERT ... SELECT ... ON CONFLICT (dispositivo_id, time) DO NOTHING`. Either way the
touched (device, local day) buckets are logged for the rollup job in the same transaction.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from psycopg.errors import UniqueViolation
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
_COPY_DIRECT = f"COPY {READINGS} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
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
        # Fast path (no key already stored, the usual case): COPY straight into the table
        # under a savepoint. A unique violation (redelivery) rolls back to the savepoint
        # and the batch takes the staging path with ON CONFLICT DO NOTHING.
        try:
            with transaction.atomic():
                _copy(cur, _COPY_DIRECT, unique.values())
                _mark_pending(cur, unique.keys())
            inserted = len(unique)
        except UniqueViolation:
            cur.execute(_STAGING_DDL)
            cur.execute(f"TRUNCATE {STAGING}")
            _copy(cur, _COPY, unique.values())
            cur.execute(_INSERT, {"tz": settings.TIME_ZONE})
            inserted = cur.fetchone()[0]
    return InsertResult(inserted=inserted, duplicates=len(rows) - inserted)


def _copy(cur, statement: str, rows) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
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


def _mark_pending(cur, keys) -> None:
    # Readings of one device within one UTC hour share a local day (the zone's offsets
    # are whole hours), so one key per device-hour is enough; SQL truncates to the day.
    hours = {(d, t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)) for d, t in keys}
    cur.execute(
        f"INSERT INTO {PENDING} (dispositivo_id, bucket)"
        " SELECT DISTINCT d, date_trunc('day', t, %s)"
        " FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(d, t)",
        [settings.TIME_ZONE, [h[0] for h in hours], [h[1] for h in hours]],
    )

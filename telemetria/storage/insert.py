"""Batch insert of readings on Django's connection, in the caller's transaction.

COPY straight into the table under a savepoint; when the batch holds a key already
stored (redelivery), fall back to COPY into a per-connection staging table and one
`INSERT ... SELECT ... ON CONFLICT (dispositivo_id, time) DO NOTHING`. Either way the
touched (device, local day) buckets are logged for the rollup job in the same transaction.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import msgspec
from django.db import connection, transaction
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from tds_core.wire import VALOR_LIMIT  # the largest |valor| numeric(15, 4) holds

from .sql import tz_literal
from .tables import PENDING, READING_COLUMNS, READINGS, STAGING


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
    INSERT INTO {PENDING} (dispositivo_id, bucket, desde)
    SELECT dispositivo_id, date_trunc('day', time, {{tz}}), min(time) FROM ins GROUP BY 1, 2
)
SELECT count(*) FROM ins
"""
_SAVEPOINT = "tds_leitura_copy"
# payload_raw to JSON: msgspec is ~10x faster than json.dumps, a measured share of ingest
# CPU (one payload per `raw` reading). Decimals become strings.
_dumps = msgspec.json.Encoder(decimal_format="string").encode
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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
    # One pass with minimal per-row work: a cheap test that passes for every valid row
    # (check_row raises the precise error otherwise), then dedup.
    unique: dict[tuple[int, datetime], ReadingRow] = {}
    limit, neg_limit = VALOR_LIMIT, -VALOR_LIMIT
    for row in rows:
        t, valor, unidade = row[0], row[4], row[5]
        if (
            t.utcoffset() is None
            or not isinstance(valor, Decimal)
            or not valor.is_finite()
            or not neg_limit < valor < limit
            or (unidade and len(unidade) > 16)
        ):
            check_row(row)
        unique.setdefault((row[3], t), row)
    if not unique:
        return InsertResult(inserted=0, duplicates=len(rows))
    hours = _device_hours(unique)

    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        # Fast path (no key already stored, the usual case): COPY straight into the table
        # under a savepoint. A unique violation (redelivery) rolls back to the savepoint
        # and the batch takes the staging path with ON CONFLICT DO NOTHING.
        # The savepoint and the pending keys go in one round trip before the COPY; a
        # rollback to the savepoint undoes both.
        _savepoint_and_mark_pending(cur, hours)
        try:
            _copy(cur, _COPY_DIRECT, unique.values())
            cur.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            inserted = len(unique)
        except UniqueViolation:
            cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}")
            cur.execute(_STAGING_DDL)
            cur.execute(f"TRUNCATE {STAGING}")
            _copy(cur, _COPY, unique.values())
            cur.execute(_INSERT.format(tz=tz_literal()))
            inserted = cur.fetchone()[0]
    return InsertResult(inserted=inserted, duplicates=len(rows) - inserted)


def _copy(cur, statement: str, rows) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
            payload = row[6]
            copy.write_row(
                (*row[:5], row[5] or "", None if payload is None else Jsonb(payload, _dumps))
            )


def _device_hours(keys) -> dict[tuple[int, int], int]:
    """{(dispositivo_id, hours since the epoch): earliest time in microseconds since the
    epoch} of the (dispositivo_id, time) keys. In the usual batch (all within one hour)
    the batch's earliest time stands for every device's: a lower bound, which is all the
    pending log's `desde` must be (see aggregates._appended_daily)."""
    times = [t for _, t in keys]
    earliest = min(times)
    first = int(earliest.timestamp() // 3600)
    if int(max(times).timestamp() // 3600) == first:  # the usual batch: a few seconds
        devices = {d for d, _ in keys}  # a few hundred, against thousands of keys
        return dict.fromkeys([(d, first) for d in devices], (earliest - _EPOCH) // _MICROSECOND)
    hours: dict[tuple[int, int], datetime] = {}
    for d, t in keys:
        key = (d, int(t.timestamp() // 3600))
        if key not in hours or t < hours[key]:
            hours[key] = t
    return {key: (t - _EPOCH) // _MICROSECOND for key, t in hours.items()}


def _savepoint_and_mark_pending(cur, hours: dict[tuple[int, int], int]) -> None:
    """Open the savepoint for the COPY and log the touched (device, local day) buckets,
    with the earliest reading time, after it, in one round trip (client-side binding).
    `hours`: {(device, epoch hour): earliest time in µs since the epoch}."""
    # Readings of one device within one UTC hour share a local day (the zone's offsets
    # are whole hours), so one key per device-hour is enough; SQL truncates to the day.
    # Integer arrays are passed as array literals: cheaper to send than datetimes.
    devices = "{" + ",".join([str(d) for d, _ in hours]) + "}"
    epoch_hours = "{" + ",".join([str(h) for _, h in hours]) + "}"
    since = "{" + ",".join([str(us) for us in hours.values()]) + "}"
    cur.execute(
        f"SAVEPOINT {_SAVEPOINT};"
        f" INSERT INTO {PENDING} (dispositivo_id, bucket, desde)"
        f" SELECT d, date_trunc('day', to_timestamp(h * 3600), {tz_literal()}),"
        "        min(timestamptz 'epoch' + us * interval '1 microsecond')"
        " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS u(d, h, us)"
        " GROUP BY 1, 2",
        [devices, epoch_hours, since],
    )

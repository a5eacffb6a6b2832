"""Retention and compression on TimescaleDB by our own beat job (`telemetria.maintain_storage`),
not by TimescaleDB's job scheduler: on PostgreSQL 15 every policy job did its work and
then recorded a failure ("cannot drop portal while it is being set up"), and the
scheduler backed off further each time. Migration 0003 removes those policies.

Each chunk is compressed in its own transaction, so one failing chunk neither undoes
the others nor stops them; failures are returned (and recorded by the caller).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from .tables import READINGS

COMPRESS_AFTER_DAYS = 7


@dataclass
class TimescaleMaintenance:
    dropped: list[str] = field(default_factory=list)
    compressed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def maintain(*, retention_days: int | None = None) -> TimescaleMaintenance:
    days = settings.TDS_RETENTION_DAYS if retention_days is None else retention_days
    result = TimescaleMaintenance()
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT drop_chunks(%s, older_than => now() - make_interval(days => %s))",
                [READINGS, days],
            )
            result.dropped = [r[0] for r in cur.fetchall()]
    except DatabaseError as exc:
        result.failures.append(f"drop_chunks: {exc}")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.chunk_schema || '.' || c.chunk_name FROM timescaledb_information.chunks c"
            " WHERE c.hypertable_name = %s AND NOT c.is_compressed"
            " AND c.range_end < now() - make_interval(days => %s) ORDER BY c.range_end",
            [READINGS, COMPRESS_AFTER_DAYS],
        )
        chunks = [r[0] for r in cur.fetchall()]
    for chunk in chunks:
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    "SELECT compress_chunk(%s::regclass, if_not_compressed => true)", [chunk]
                )
            result.compressed.append(chunk)
        except DatabaseError as exc:
            result.failures.append(f"compress_chunk({chunk}): {exc}")
    return result


def remove_scheduler_policies(cur) -> None:
    """Migration 0003: our beat job does retention and compression from now on."""
    cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    if cur.fetchone() is None:
        return
    cur.execute(
        "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
        [READINGS],
    )
    if cur.fetchone() is None:
        return
    cur.execute("SELECT remove_retention_policy(%s, if_exists => true)", [READINGS])
    cur.execute("SELECT remove_compression_policy(%s, if_exists => true)", [READINGS])

"""TimescaleDB back end: a hypertable with 1-day chunks, compression after 7 days and
retention (settings.TDS_RETENTION_DAYS) by our beat job (timescale_jobs.py), and
continuous aggregates (daily, and monthly
on top of daily) named and shaped like the native rollup tables.

The aggregates are `materialized_only`: the read queries add the not-yet-refreshed
buckets from the raw rows themselves (the pending-bucket log), exactly as on the native
back end, so both back ends answer the same.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection

from .sql import tz_literal, zone
from .tables import DAILY, MONTHLY, READINGS


def create_schema(cur, readings_columns_ddl: str) -> None:
    tz = tz_literal()
    cur.execute(f"CREATE TABLE {READINGS} ({readings_columns_ddl})")
    cur.execute(
        "SELECT create_hypertable(%s, 'time', chunk_time_interval => INTERVAL '1 day')",
        [READINGS],
    )
    cur.execute(
        f"ALTER TABLE {READINGS} SET (timescaledb.compress,"
        " timescaledb.compress_segmentby = 'dispositivo_id',"
        " timescaledb.compress_orderby = 'time DESC')"
    )
    # Compression and retention run from our beat job (timescale_jobs.maintain), not
    # from TimescaleDB's job scheduler.
    cur.execute(
        f"""CREATE MATERIALIZED VIEW {DAILY}
        WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
        SELECT conta_id, dispositivo_id,
               time_bucket(INTERVAL '1 day', time, {tz}) AS bucket,
               count(*) AS n, sum(valor) AS soma, min(valor) AS minimo, max(valor) AS maximo,
               first(valor, time) AS primeiro, min(time) AS primeiro_em,
               last(valor, time) AS ultimo, max(time) AS ultimo_em
        FROM {READINGS}
        GROUP BY conta_id, dispositivo_id, bucket
        WITH NO DATA"""
    )
    cur.execute(
        f"""CREATE MATERIALIZED VIEW {MONTHLY}
        WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
        SELECT conta_id, dispositivo_id,
               time_bucket(INTERVAL '1 month', bucket, {tz}) AS bucket,
               sum(n) AS n, sum(soma) AS soma, min(minimo) AS minimo, max(maximo) AS maximo,
               first(primeiro, primeiro_em) AS primeiro, min(primeiro_em) AS primeiro_em,
               last(ultimo, ultimo_em) AS ultimo, max(ultimo_em) AS ultimo_em
        FROM {DAILY}
        GROUP BY conta_id, dispositivo_id, time_bucket(INTERVAL '1 month', bucket, {tz})
        WITH NO DATA"""
    )
    # The rollup job refreshes exactly the buckets it finds pending; these policies are
    # the safety net that keeps the aggregates current even if that job stops.
    cur.execute(
        "SELECT add_continuous_aggregate_policy(%s, start_offset => INTERVAL '3 days',"
        " end_offset => NULL, schedule_interval => INTERVAL '1 hour')",
        [DAILY],
    )
    cur.execute(
        "SELECT add_continuous_aggregate_policy(%s, start_offset => INTERVAL '3 months',"
        " end_offset => NULL, schedule_interval => INTERVAL '1 hour')",
        [MONTHLY],
    )


def drop_schema(cur) -> None:
    cur.execute(
        "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'",
    )
    if cur.fetchone() is None:
        return
    cur.execute(f"DROP MATERIALIZED VIEW IF EXISTS {MONTHLY}")
    cur.execute(f"DROP MATERIALIZED VIEW IF EXISTS {DAILY} CASCADE")


def _local_bounds(days: list[datetime]) -> tuple[datetime, datetime, datetime, datetime]:
    """(first day start, last day end, first month start, last month end), local time."""
    local = zone()
    first = min(days).astimezone(local).date()
    last = max(days).astimezone(local).date() + timedelta(days=1)
    month_lo = date(first.year, first.month, 1)
    last_month = max(days).astimezone(local).date().replace(day=1)
    month_hi = (last_month + timedelta(days=32)).replace(day=1)
    return tuple(
        datetime.combine(d, time(0), tzinfo=local) for d in (first, last, month_lo, month_hi)
    )


def refresh_aggregates(*, days: list[datetime]) -> None:
    """Refresh the daily and then the monthly continuous aggregate over the window that
    covers `days` (bucket starts). Must run outside a transaction."""
    day_lo, day_hi, month_lo, month_hi = _local_bounds(days)
    with connection.cursor() as cur:
        cur.execute("CALL refresh_continuous_aggregate(%s, %s, %s)", [DAILY, day_lo, day_hi])
        cur.execute("CALL refresh_continuous_aggregate(%s, %s, %s)", [MONTHLY, month_lo, month_hi])


class TimescaleBackend:
    name = "timescaledb"

    def create_schema(self, cur, readings_columns_ddl: str) -> None:
        create_schema(cur, readings_columns_ddl)

    def drop_schema(self, cur) -> None:
        drop_schema(cur)

    def refresh_outside_transaction(self, *, days: list[datetime]) -> None:
        refresh_aggregates(days=days)  # continuous aggregates refresh outside a transaction

    def refresh_in_transaction(self, cur, *, claimed: str, params: dict) -> None:
        pass  # done by refresh_outside_transaction

    def maintain(self, *, today: date | None = None):
        """Retention and compression by our beat job (timescale_jobs), not by the
        extension's job scheduler. Raises StorageMaintenanceError naming what failed
        (the other steps ran)."""
        from . import timescale_jobs
        from .locks import try_advisory_lock
        from .partitions import MaintenanceResult, StorageMaintenanceError

        with try_advisory_lock("maintain_partitions") as acquired:
            if not acquired:
                return MaintenanceResult(True, [], [], 0, 0)
            done = timescale_jobs.maintain()
        if done.failures:
            raise StorageMaintenanceError("; ".join(done.failures))
        return MaintenanceResult(False, [], [], 0, 0, done.dropped, done.compressed)

    def prepare_days(self, first: date, last: date) -> None:
        pass  # chunks are created as readings arrive


BACKEND = TimescaleBackend()

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


def _runs(starts: list[date], step) -> list[tuple[date, date]]:
    """The sorted distinct `starts` merged into runs [first, end) of consecutive buckets,
    `step(start)` being the next bucket's start."""
    runs: list[list[date]] = []
    for start in sorted(set(starts)):
        if runs and runs[-1][1] == start:
            runs[-1][1] = step(start)
        else:
            runs.append([start, step(start)])
    return [(lo, hi) for lo, hi in runs]


def _next_month(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1)


def refresh_windows(days: list[datetime]) -> tuple[list[tuple], list[tuple]]:
    """The local-midnight windows [lo, hi) to refresh for the day buckets `days`: runs
    of consecutive days for the daily aggregate, runs of consecutive months (those
    containing the days) for the monthly one."""
    local = zone()
    dates = [d.astimezone(local).date() for d in days]
    daily = _runs(dates, lambda d: d + timedelta(days=1))
    monthly = _runs([d.replace(day=1) for d in dates], _next_month)

    def midnights(runs):
        return [tuple(datetime.combine(d, time(0), tzinfo=local) for d in run) for run in runs]

    return midnights(daily), midnights(monthly)


def refresh_aggregates(*, days: list[datetime]) -> None:
    """Refresh the daily and then the monthly continuous aggregate over the days `days`
    (bucket starts) and the months containing them. Must run outside a transaction.

    Forced (every bucket of the windows is recomputed), not left to TimescaleDB's
    invalidation log: TimescaleDB 2.28 drops the last bucket of a change that ends
    exactly at a bucket start when its buckets have a time zone (timescale/timescaledb
    #10296), so the month after a run of days ending on the 1st (a daily bucket starts
    at local midnight) kept its old row. The windows are the claimed days and their
    months only, so forcing recomputes what the invalidations would have."""
    daily, monthly = refresh_windows(days)
    with connection.cursor() as cur:
        for view, windows in ((DAILY, daily), (MONTHLY, monthly)):
            for lo, hi in windows:
                cur.execute(
                    "CALL refresh_continuous_aggregate(%s, %s, %s, force => true)", [view, lo, hi]
                )


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

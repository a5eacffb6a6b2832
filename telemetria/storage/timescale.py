"""TimescaleDB back end: a hypertable with 1-day chunks, compression after 7 days and
retention (settings.TDS_RETENTION_DAYS) by our beat job (timescale_jobs.py), and
continuous aggregates (daily, and monthly
on top of daily) named and shaped like the native rollup tables.

The aggregates are `materialized_only`: the read queries add the not-yet-refreshed
buckets from the raw rows themselves (the pending-bucket log), exactly as on the native
back end, so both back ends answer the same.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from .tables import DAILY, MONTHLY, READINGS


def create_schema(cur, readings_columns_ddl: str) -> None:
    tz = settings.TIME_ZONE
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
               time_bucket(INTERVAL '1 day', time, '{tz}') AS bucket,
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
               time_bucket(INTERVAL '1 month', bucket, '{tz}') AS bucket,
               sum(n) AS n, sum(soma) AS soma, min(minimo) AS minimo, max(maximo) AS maximo,
               first(primeiro, primeiro_em) AS primeiro, min(primeiro_em) AS primeiro_em,
               last(ultimo, ultimo_em) AS ultimo, max(ultimo_em) AS ultimo_em
        FROM {DAILY}
        GROUP BY conta_id, dispositivo_id, time_bucket(INTERVAL '1 month', bucket, '{tz}')
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
    zone = ZoneInfo(settings.TIME_ZONE)
    first = min(days).astimezone(zone).date()
    last = max(days).astimezone(zone).date() + timedelta(days=1)
    month_lo = date(first.year, first.month, 1)
    last_month = max(days).astimezone(zone).date().replace(day=1)
    month_hi = (last_month + timedelta(days=32)).replace(day=1)
    return tuple(
        datetime.combine(d, time(0), tzinfo=zone) for d in (first, last, month_lo, month_hi)
    )


def refresh_aggregates(*, days: list[datetime]) -> None:
    """Refresh the daily and then the monthly continuous aggregate over the window that
    covers `days` (bucket starts). Must run outside a transaction."""
    day_lo, day_hi, month_lo, month_hi = _local_bounds(days)
    with connection.cursor() as cur:
        cur.execute("CALL refresh_continuous_aggregate(%s, %s, %s)", [DAILY, day_lo, day_hi])
        cur.execute("CALL refresh_continuous_aggregate(%s, %s, %s)", [MONTHLY, month_lo, month_hi])

"""Incremental refresh of the daily/monthly aggregates and the per-day reset table.

`insert_readings` logs every (dispositivo, local day) it touches in the pending table, in
the same transaction as the readings. This job claims the logged rows it can see,
recomputes exactly those days (late readings included) and the months containing them,
then deletes the claimed log rows by id: a row logged meanwhile keeps its bucket pending.
In the same transaction it rewrites the consumption totals those days are part of
(storage.totals), so the totals always match the stored day rows.
"""

from typing import NamedTuple

from django.db import connection, transaction

from .aggregates import day_end, meter_events, month_resets, raw_daily, replace_rows
from .backend import current
from .locks import try_advisory_lock
from .sql import tz_literal
from .tables import EVENTS, MONTH_RESETS, PENDING, READINGS, RESETS
from .totals import refresh_totals

# The pairs being refreshed, passed as two parallel arrays.
CLAIMED = (
    "SELECT DISTINCT dispositivo_id, bucket"
    " FROM unnest(%(devs)s::bigint[], %(buckets)s::timestamptz[]) AS c(dispositivo_id, bucket)"
)


class RefreshResult(NamedTuple):
    skipped: bool  # another worker holds the lock
    buckets: int  # (dispositivo, day) pairs refreshed


def refresh_rollups(*, max_rows: int = 200_000) -> RefreshResult:
    with try_advisory_lock("refresh_rollups") as acquired:
        if not acquired:
            return RefreshResult(skipped=True, buckets=0)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT id, dispositivo_id, bucket FROM {PENDING} ORDER BY id LIMIT %s",
                [max_rows],
            )
            claimed = cur.fetchall()
        if not claimed:
            return RefreshResult(skipped=False, buckets=0)
        ids = [row[0] for row in claimed]
        pairs = sorted({(row[1], row[2]) for row in claimed})
        params = {"devs": [p[0] for p in pairs], "buckets": [p[1] for p in pairs]}

        backend = current()
        backend.refresh_outside_transaction(days=[p[1] for p in pairs])
        with transaction.atomic(), connection.cursor() as cur:
            backend.refresh_in_transaction(cur, claimed=CLAIMED, params=params)
            refresh_resets(cur, params)
            refresh_totals(cur, CLAIMED, params)  # from the day rows and resets just written
            cur.execute(f"DELETE FROM {PENDING} WHERE id = ANY(%s)", [ids])
        return RefreshResult(skipped=False, buckets=len(pairs))


def refresh_resets(cur, params: dict) -> None:
    """The day and month reset adjustments of the claimed days (after the daily rows), and
    the meter events of the claimed days and of the day after each (whose first reading
    is compared with the claimed day's last)."""
    replace_rows(
        cur,
        RESETS,
        CLAIMED,
        "dispositivo_id, bucket, ajuste",
        f"SELECT dispositivo_id, bucket, ajuste FROM ({raw_daily(CLAIMED)}) AS d WHERE ajuste <> 0",
        params,
    )
    tz = tz_literal()
    months = f"""SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz}) AS bucket
                 FROM ({CLAIMED}) AS c"""
    replace_rows(
        cur,
        MONTH_RESETS,
        months,
        "dispositivo_id, bucket, ajuste",
        f"SELECT dispositivo_id, bucket, ajuste FROM ({month_resets(months)}) AS m WHERE ajuste <> 0",
        params,
    )
    event_days = f"""SELECT dispositivo_id, bucket FROM ({CLAIMED}) AS c
                     UNION SELECT dispositivo_id, {day_end("bucket")} FROM ({CLAIMED}) AS c"""
    replace_rows(
        cur,
        EVENTS,
        event_days,
        "conta_id, dispositivo_id, bucket, time, valor_anterior, valor, tipo",
        meter_events(event_days),
        params,
    )


def rejudge_counter_steps(*, dispositivo_id: int) -> int:
    """After a device's register maximum, factor or meter kind changed: log as pending
    every local day of the device that holds a backwards step of its counter (a reading
    lower than the one before it, the day's first reading compared with the previous
    day's last), in the caller's transaction. Those are the only days whose stored
    adjustments and meter events depend on the rollover rule; until the rollup job
    recomputes them, reads compute them from the raw readings with the device's new
    values, as for a late reading. The same tables on both back ends (the daily rows
    themselves do not change). Returns the number of days logged.

    One pass over the device's readings (an index range scan in time order)."""
    tz = tz_literal()
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {PENDING} (dispositivo_id, bucket, desde)
                SELECT DISTINCT %(dev)s::bigint, date_trunc('day', time, {tz}), NULL::timestamptz
                FROM (
                    SELECT time, valor, lag(valor) OVER (ORDER BY time) AS anterior
                    FROM {READINGS} WHERE dispositivo_id = %(dev)s
                ) AS s
                WHERE valor < anterior""",
            {"dev": dispositivo_id},
        )
        return cur.rowcount

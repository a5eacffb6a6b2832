"""A device's series: aggregates per bucket (n, soma, minimo, maximo, media, primeiro,
ultimo).

The one series query of the product: the dashboard, the JSON API and the bench call
`readings_series_for_device`. Day and month buckets come from the real-time daily
aggregates (rollups plus pending days); any other width is computed from the raw
readings, aligned on a fixed local midnight that is a Monday, so weekly buckets start
on Mondays and every width that divides a day starts at local midnight.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from .aggregates import month_end, pending_buckets, realtime_daily_between
from .sql import (
    device_kinds,
    fetch,
    local_midnight,
    register_modulus,
    step_adjustment,
    tz_literal,
    zone,
)
from .tables import DEVICES, MONTHLY, PENDING, READINGS

DAY = "day"
MONTH = "month"
# Local time, a Monday: where sub-day and n-day buckets align. After 2019, when Brazil
# ended daylight saving time: the dashboard's former origin, 2000-01-03, fell in DST, so
# its day and week buckets started at 23:00.
ORIGIN = "2024-01-01 00:00:00"


class SeriesPoint(NamedTuple):
    """One bucket, named as the aggregate columns (and ConsumoMes) name them."""

    bucket: datetime  # bucket start
    n: int
    soma: Decimal
    minimo: Decimal
    maximo: Decimal
    media: Decimal  # rounded to 4 places
    primeiro: Decimal  # by time
    ultimo: Decimal


_POINT = "n::bigint, soma, minimo, maximo, round(soma / n, 4), primeiro, ultimo"  # after `bucket`


def readings_series_for_device(
    *, conta_id: int, dispositivo_id: int, start: datetime, end: datetime, bucket
) -> list[SeriesPoint]:
    """Aggregates per bucket for one device, oldest first; empty buckets are omitted.

    `bucket` is "day", "month" or a positive timedelta. Day/month buckets are whole:
    every bucket that starts before `end` and ends after `start`; timedelta buckets hold
    the readings in [start, end). A device of another account yields nothing."""
    if bucket in (DAY, MONTH):
        devs = list(device_kinds(conta_id, [dispositivo_id]))
        if not devs:
            return []
        rows = _series_days(devs, start, end) if bucket == DAY else _series_months(devs, start, end)
    elif isinstance(bucket, timedelta) and bucket > timedelta(0):
        rows = _series_raw(conta_id, dispositivo_id, start, end, bucket)
    else:
        raise ValueError(f"bucket: {bucket!r} is not 'day', 'month' or a positive timedelta")
    return [SeriesPoint(*row) for row in rows]


def _series_raw(conta_id, dispositivo_id, start, end, step) -> list[tuple]:
    # The account is checked on the device, not on each reading: with `conta_id = ...` on
    # the readings the planner could pick the (conta_id, time) index and read every
    # device's readings of the period (seen: 62 ms instead of a few).
    return fetch(
        f"""SELECT date_bin(%(step)s, time, %(origin)s::timestamp AT TIME ZONE {tz_literal()})
                     AS bucket,
                   count(*), sum(valor), min(valor), max(valor), round(avg(valor), 4),
                   (array_agg(valor ORDER BY time))[1], (array_agg(valor ORDER BY time DESC))[1]
            FROM {READINGS}
            WHERE dispositivo_id = (SELECT id FROM {DEVICES} WHERE id = %(disp)s AND conta_id = %(conta)s)
              AND time >= %(start)s AND time < %(end)s
            GROUP BY 1 ORDER BY 1""",
        {
            "step": step,
            "origin": ORIGIN,
            "disp": dispositivo_id,
            "conta": conta_id,
            "start": start,
            "end": end,
        },
    )


# How far back the reading before a consumption series' first one is looked for (bounded,
# so partitions and chunks are pruned at plan time).
PREVIOUS_LOOKBACK = timedelta(days=31)


def consumption_series_for_device(
    *, conta_id: int, dispositivo_id: int, start: datetime, end: datetime, bucket: timedelta
) -> dict[datetime, Decimal]:
    """{bucket start: consumption} of the device's readings in [start, end), in the buckets
    of readings_series_for_device with a timedelta `bucket` (the same alignment).

    The billable rule, the one of the day and month figures: a cumulative register
    consumes each step from the previous reading (the one before `start` too, looked
    for back to PREVIOUS_LOOKBACK), a step back being a rollover only near the
    register's maximum and zero otherwise (storage.sql.step_adjustment); an interval
    meter consumes its values. Each step counts in the bucket of its later reading, so
    buckets add up to the period. An instantaneous meter (or another account's device)
    has no consumption: {}."""
    kind = device_kinds(conta_id, [dispositivo_id]).get(dispositivo_id)
    if kind not in ("ACUMULADO", "INTERVALO"):
        return {}
    consumed = (
        "valor"
        if kind == "INTERVALO"
        else f"""CASE WHEN anterior IS NULL THEN 0
                 ELSE valor - anterior + {step_adjustment("anterior", "valor", "modulo")} END"""
    )
    rows = fetch(
        f"""SELECT date_bin(%(step)s, time, %(origin)s::timestamp AT TIME ZONE {tz_literal()}),
                   round(sum({consumed}), 4)  -- the readings' scale (the modulus has 6 places)
            FROM (
                SELECT time, valor, lag(valor) OVER (ORDER BY time) AS anterior,
                       (SELECT {register_modulus("dv")} FROM {DEVICES} AS dv
                        WHERE dv.id = %(disp)s) AS modulo
                FROM (
                    SELECT time, valor FROM {READINGS}
                    WHERE dispositivo_id = %(disp)s AND time >= %(start)s AND time < %(end)s
                    UNION ALL
                    (SELECT time, valor FROM {READINGS}
                     WHERE dispositivo_id = %(disp)s AND time < %(start)s AND time >= %(lo)s
                     ORDER BY time DESC LIMIT 1)
                ) AS r
            ) AS s
            WHERE time >= %(start)s
            GROUP BY 1 ORDER BY 1""",
        {
            "step": bucket,
            "origin": ORIGIN,
            "disp": dispositivo_id,
            "start": start,
            "end": end,
            "lo": start - PREVIOUS_LOOKBACK,
        },
    )
    return dict(rows)


def _series_days(devs, start, end) -> list[tuple]:
    params = {"devs": devs, "lo": local_midnight(start.astimezone(zone()).date()), "hi": end}
    daily = realtime_daily_between(params, "lo", "hi", "span")
    return fetch(f"SELECT bucket, {_POINT} FROM ({daily}) AS d ORDER BY bucket", params)


def _series_months(devs, start, end) -> list[tuple]:
    local = start.astimezone(zone()).date()
    lo = local_midnight(local.replace(day=1))
    tz = tz_literal()
    params = {"devs": devs, "lo": lo, "hi": end, "hi_days": end + timedelta(days=32)}
    daily = realtime_daily_between(params, "lo", "hi_days", "span")
    pending_months = f"""SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz}) AS bucket
                         FROM ({pending_buckets("%(devs)s", "'-infinity'", "'infinity'")}) AS p"""
    return fetch(
        f"""
        SELECT bucket, {_POINT} FROM (
            SELECT m.bucket, m.n, m.soma, m.minimo, m.maximo, m.primeiro, m.ultimo
            FROM {MONTHLY} AS m
            WHERE m.dispositivo_id = ANY(%(devs)s) AND m.bucket >= %(lo)s AND m.bucket < %(hi)s
              AND NOT EXISTS (SELECT 1 FROM {PENDING} AS p
                              WHERE p.dispositivo_id = m.dispositivo_id AND p.bucket >= m.bucket
                                AND p.bucket < {month_end("m.bucket")})
            UNION ALL
            SELECT pm.bucket, sum(d.n), sum(d.soma), min(d.minimo), max(d.maximo),
                   (array_agg(d.primeiro ORDER BY d.bucket))[1],
                   (array_agg(d.ultimo ORDER BY d.bucket DESC))[1]
            FROM ({pending_months}) AS pm
            JOIN ({daily}) AS d
              ON d.dispositivo_id = pm.dispositivo_id AND d.bucket >= pm.bucket
             AND d.bucket < {month_end("pm.bucket")}
            WHERE pm.bucket >= %(lo)s AND pm.bucket < %(hi)s
            GROUP BY pm.dispositivo_id, pm.bucket
        ) AS months ORDER BY bucket""",
        params,  # hi_days: days up to the end of the month in which `end` falls
    )

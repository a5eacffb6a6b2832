"""Consumption between consecutive readings and per local hour or day, by meter kind
(the alarm engine's reads; consumption.py has the months).

The same semantics as consumption_by_month: a cumulative register (ACUMULADO) consumes
the increase from the previous reading, and a reading lower than the previous one is a
counter reset that counts its own value from zero; an interval meter (INTERVALO)
consumes its value; an instantaneous meter (INSTANTANEO) consumes nothing (None).
`STEP_SQL` is that rule, written once for these queries.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from .aggregates import realtime_daily_between
from .series import DAY
from .sql import device_kinds, tz_literal
from .tables import READINGS

HOUR = "hour"


def step_sql(kind: str, valor: str, anterior: str) -> str:
    """SQL for the consumption of one reading given the previous one's value."""
    return f"""CASE {kind} WHEN 'INTERVALO' THEN {valor}
        WHEN 'ACUMULADO' THEN CASE WHEN {anterior} IS NULL THEN NULL
                                   WHEN {valor} >= {anterior} THEN {valor} - {anterior}
                                   ELSE {valor} END
        END"""


class Step(NamedTuple):
    dispositivo_id: int
    time: datetime
    valor: Decimal
    anterior_em: datetime | None  # the previous reading, within the look-back
    anterior: Decimal | None
    consumo: Decimal | None  # by meter kind; None for the first or an instantaneous one


def _with_previous() -> str:
    """SQL: the readings of %(devs)s in [%(start)s, %(end)s) with the previous reading's
    time and value. The reading before %(start)s is one index probe per device (looked
    for back to %(lo)s, so partitions are pruned at plan time), not a scan of the
    look-back: the consumer runs this for every batch."""
    return f"""
        SELECT dispositivo_id, time, valor,
               lag(time) OVER w AS anterior_em, lag(valor) OVER w AS anterior
        FROM (
            SELECT dispositivo_id, time, valor FROM {READINGS}
            WHERE dispositivo_id = ANY(%(devs)s) AND time >= %(start)s AND time < %(end)s
            UNION ALL
            SELECT dv.id, p.time, p.valor
            FROM unnest(%(devs)s::bigint[]) AS dv(id)
            CROSS JOIN LATERAL (
                SELECT time, valor FROM {READINGS}
                WHERE dispositivo_id = dv.id AND time < %(start)s AND time >= %(lo)s
                ORDER BY time DESC LIMIT 1
            ) AS p
        ) AS r
        WINDOW w AS (PARTITION BY dispositivo_id ORDER BY time)"""


def consumption_steps(
    *,
    conta_id: int,
    dispositivo_ids,
    start: datetime,
    end: datetime,
    lookback: timedelta = timedelta(hours=6),
) -> list[Step]:
    """Every reading of the devices in [start, end] with the previous reading (looked for
    up to `lookback` before `start`) and its consumption, by device then time."""
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return []
    sql = f"""
        SELECT x.dispositivo_id, x.time, x.valor, x.anterior_em, x.anterior,
               {step_sql("d.tipo_medidor", "x.valor", "x.anterior")}
        FROM ({_with_previous()}) AS x
        JOIN tds_new_dispositivo AS d ON d.id = x.dispositivo_id
        WHERE x.time >= %(start)s
        ORDER BY x.dispositivo_id, x.time"""
    params = {
        "devs": list(kinds),
        "lo": start - lookback,
        "start": start,
        "end": end + timedelta(microseconds=1),
    }
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [Step(*row) for row in cur.fetchall()]


class PeriodConsumption(NamedTuple):
    dispositivo_id: int
    bucket: datetime  # local hour or day start
    consumo: Decimal | None
    n: int


def consumption_by_period(
    *, conta_id: int, dispositivo_ids, start: datetime, end: datetime, period: str
) -> list[PeriodConsumption]:
    """Consumption per device and local hour (`HOUR`) or day (`DAY`) with a reading in
    [start, end), by device then bucket. Each step counts in the bucket of its later
    reading (buckets add up to the total, as months do). Days come from the daily
    aggregates (real-time), hours from the raw readings."""
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return []
    devs = list(kinds)
    tz = tz_literal()
    if period == HOUR:
        sql = f"""
            SELECT x.dispositivo_id, date_trunc('hour', x.time, {tz}) AS bucket,
                   sum({step_sql("d.tipo_medidor", "x.valor", "x.anterior")}), count(*)
            FROM ({_with_previous()}) AS x
            JOIN tds_new_dispositivo AS d ON d.id = x.dispositivo_id
            WHERE x.time >= %(start)s
            GROUP BY 1, 2 ORDER BY 1, 2"""
        params = {"devs": devs, "lo": start - timedelta(hours=6), "start": start, "end": end}
    elif period == DAY:
        # Days from [start - 1 day) so the first day gets the step from the day before.
        params = {"devs": devs, "lo": start - timedelta(days=1), "start": start, "hi": end}
        daily = realtime_daily_between(params, "lo", "hi", "span")
        cumulative = """ultimo - primeiro + ajuste + CASE WHEN ultimo_ant IS NULL THEN 0
                        WHEN primeiro >= ultimo_ant THEN primeiro - ultimo_ant ELSE primeiro END"""
        sql = f"""
            SELECT x.dispositivo_id, x.bucket,
                   CASE d.tipo_medidor WHEN 'INTERVALO' THEN x.soma
                        WHEN 'ACUMULADO' THEN {cumulative} END, x.n
            FROM (
                SELECT dispositivo_id, bucket, n, soma, primeiro, ultimo, ajuste,
                       lag(ultimo) OVER (PARTITION BY dispositivo_id ORDER BY bucket) AS ultimo_ant
                FROM ({daily}) AS rt
            ) AS x
            JOIN tds_new_dispositivo AS d ON d.id = x.dispositivo_id
            WHERE x.bucket >= %(start)s
            ORDER BY 1, 2"""
    else:
        raise ValueError(f"period: {period!r} is not 'hour' or 'day'")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [PeriodConsumption(*row) for row in cur.fetchall()]


def last_reading_times(*, conta_id: int, dispositivo_ids, since: datetime) -> dict[int, datetime]:
    """{device id: time of its last reading at or after `since`} (devices without one
    are absent)."""
    devs = list(device_kinds(conta_id, dispositivo_ids))
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT dispositivo_id, max(time) FROM {READINGS}
                WHERE dispositivo_id = ANY(%s) AND time >= %s GROUP BY 1""",
            [devs, since],
        )
        return dict(cur.fetchall())

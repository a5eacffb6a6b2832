"""Read side of the storage API: series, latest readings, consumption per month.

Everything is scoped by `conta_id` (a device of another account yields nothing) and
real-time: buckets not yet refreshed by the rollup job are computed from raw readings.
Day and month buckets are local (settings.TIME_ZONE).
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .aggregates import month_end, pending_buckets, raw_daily, realtime_daily, tz_literal
from .tables import DAILY, MONTH_RESETS, MONTHLY, PENDING, READINGS

DAY = "day"
MONTH = "month"


class SeriesPoint(NamedTuple):
    bucket: datetime  # bucket start
    count: int
    sum: Decimal
    min: Decimal
    max: Decimal
    avg: Decimal  # rounded to 4 places
    first: Decimal  # by time
    last: Decimal


class LatestReading(NamedTuple):
    time: datetime
    valor: Decimal
    unidade: str
    dispositivo_id: int
    dispositivo_codigo: str
    gateway_id: int
    gateway_codigo: str


class ConsumoMes(NamedTuple):
    """One device's month. `consumo` follows the meter kind: cumulative register
    (ACUMULADO): the increase of the register, counter resets handled; interval
    (INTERVALO): the sum; instantaneous (INSTANTANEO): None (use minimo/media/maximo)."""

    dispositivo_id: int
    mes: date  # first day of the local month
    tipo_medidor: str
    consumo: Decimal | None
    n: int
    soma: Decimal
    minimo: Decimal
    media: Decimal
    maximo: Decimal


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_zone())


def _device_kinds(conta_id: int, dispositivo_ids=None) -> dict[int, str]:
    """{id: tipo_medidor} of the account's devices (of those in `dispositivo_ids`), by id."""
    sql = "SELECT id, tipo_medidor FROM tds_new_dispositivo WHERE conta_id = %s"
    params: list = [conta_id]
    if dispositivo_ids is not None:
        sql += " AND id = ANY(%s)"
        params.append(list(dispositivo_ids))
    with connection.cursor() as cur:
        cur.execute(sql + " ORDER BY id", params)
        return dict(cur.fetchall())


def _devices(conta_id: int, dispositivo_ids=None) -> list[int]:
    return list(_device_kinds(conta_id, dispositivo_ids))


def _pending_span(devs, lo, hi) -> tuple[datetime, datetime] | None:
    """First and last pending bucket of `devs` in [lo, hi), or None."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT min(bucket), max(bucket) FROM {PENDING}"
            " WHERE dispositivo_id = ANY(%s) AND bucket >= %s AND bucket < %s",
            [devs, lo, hi],
        )
        first, last = cur.fetchone()
    return None if first is None else (first, last)


def _realtime_daily(params: dict, lo: str, hi: str, span_key: str) -> str:
    """realtime_daily() for %(devs)s in [lo, hi); puts the pending span into `params`."""
    span = _pending_span(params["devs"], params[lo], params[hi])
    if span is None:
        return realtime_daily("%(devs)s", f"%({lo})s", f"%({hi})s", None)
    params[f"{span_key}_lo"], params[f"{span_key}_hi"] = span
    return realtime_daily(
        "%(devs)s", f"%({lo})s", f"%({hi})s", (f"%({span_key}_lo)s", f"%({span_key}_hi)s")
    )


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


_POINT = "n::bigint, soma, minimo, maximo, round(soma / n, 4), primeiro, ultimo"  # after `bucket`


def readings_series_for_device(
    *, conta_id: int, dispositivo_id: int, start: datetime, end: datetime, bucket
) -> list[SeriesPoint]:
    """Aggregates per bucket for one device, oldest first; empty buckets are omitted.

    `bucket` is "day", "month" or a timedelta of less than a day (aligned on local
    midnight). Day/month buckets are whole: every bucket that starts before `end` and
    ends after `start`."""
    devs = _devices(conta_id, [dispositivo_id])
    if not devs:
        return []
    if bucket == DAY:
        rows = _series_days(devs, start, end)
    elif bucket == MONTH:
        rows = _series_months(devs, start, end)
    elif isinstance(bucket, timedelta) and timedelta(0) < bucket <= timedelta(days=1):
        rows = _series_raw(devs[0], start, end, bucket)
    else:
        raise ValueError(f"bucket: {bucket!r} is not 'day', 'month' or a timedelta up to 1 day")
    return [SeriesPoint(*row) for row in rows]


def _series_raw(dispositivo_id, start, end, step) -> list[tuple]:
    origin = local_midnight(start.astimezone(_zone()).date())
    return _fetch(
        f"""SELECT date_bin(%(step)s, time, %(origin)s) AS bucket, count(*), sum(valor),
                   min(valor), max(valor), round(avg(valor), 4),
                   (array_agg(valor ORDER BY time))[1], (array_agg(valor ORDER BY time DESC))[1]
            FROM {READINGS}
            WHERE dispositivo_id = %(disp)s AND time >= %(start)s AND time < %(end)s
            GROUP BY 1 ORDER BY 1""",
        {"step": step, "origin": origin, "disp": dispositivo_id, "start": start, "end": end},
    )


def _series_days(devs, start, end) -> list[tuple]:
    params = {"devs": devs, "lo": local_midnight(start.astimezone(_zone()).date()), "hi": end}
    daily = _realtime_daily(params, "lo", "hi", "span")
    return _fetch(f"SELECT bucket, {_POINT} FROM ({daily}) AS d ORDER BY bucket", params)


def _series_months(devs, start, end) -> list[tuple]:
    local = start.astimezone(_zone()).date()
    lo = local_midnight(local.replace(day=1))
    tz = tz_literal()
    params = {"devs": devs, "lo": lo, "hi": end, "hi_days": end + timedelta(days=32)}
    daily = _realtime_daily(params, "lo", "hi_days", "span")
    pending_months = f"""SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz}) AS bucket
                         FROM ({pending_buckets("%(devs)s", "'-infinity'", "'infinity'")}) AS p"""
    return _fetch(
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


def latest_readings_for_conta(
    *, conta_id: int, limit: int = 20, dispositivo_id: int | None = None
) -> list[LatestReading]:
    """The account's most recent readings (by reading time), newest first."""
    sql = f"""
        SELECT l.time, l.valor, l.unidade, l.dispositivo_id, d.codigo, l.gateway_id, g.codigo
        FROM {READINGS} AS l
        JOIN tds_new_dispositivo AS d ON d.id = l.dispositivo_id
        JOIN tds_new_gateway AS g ON g.id = l.gateway_id
        WHERE l.conta_id = %(conta)s AND l.time >= %(since)s {{device}}
        ORDER BY l.time DESC LIMIT %(limit)s"""
    sql = sql.replace("{device}", "AND l.dispositivo_id = %(disp)s" if dispositivo_id else "")
    params = {"conta": conta_id, "limit": limit, "disp": dispositivo_id}
    # Look at the last day first (partition pruning); widen only when that is not enough.
    rows = _fetch(sql, {**params, "since": timezone.now() - timedelta(days=1)})
    if len(rows) < limit:
        rows = _fetch(sql, {**params, "since": datetime.min.replace(tzinfo=_zone())})
    return [LatestReading(*row) for row in rows]


def _month_units(params: dict) -> str:
    """Rows ("units") of %(devs)s in [%(lo)s, %(hi)s) for consumption_by_month: a month
    with no pending day as its monthly row with the month's reset adjustment, a month with
    a pending day (within the pending span, as in realtime_daily) as its real-time days."""
    stored = f"""
        SELECT m.dispositivo_id, m.bucket, m.n, m.soma, m.minimo, m.maximo, m.primeiro,
               m.ultimo, coalesce(r.ajuste, 0) AS ajuste
        FROM {MONTHLY} AS m
        LEFT JOIN {MONTH_RESETS} AS r ON r.dispositivo_id = m.dispositivo_id AND r.bucket = m.bucket
        WHERE m.dispositivo_id = ANY(%(devs)s) AND m.bucket >= %(lo)s AND m.bucket < %(hi)s"""
    span = _pending_span(params["devs"], params["lo"], params["hi"])
    if span is None:
        return stored
    params["span_lo"], params["span_hi"] = span
    params["days_lo"] = local_midnight(span[0].astimezone(_zone()).date().replace(day=1))
    tz = tz_literal()
    pending_months = f"""SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz}) AS mes
        FROM {PENDING} WHERE dispositivo_id = ANY(%(devs)s)
         AND bucket >= %(span_lo)s AND bucket <= %(span_hi)s"""
    daily = realtime_daily("%(devs)s", "%(days_lo)s", "%(hi)s", ("%(span_lo)s", "%(span_hi)s"))
    return f"""{stored}
          AND NOT EXISTS (SELECT 1 FROM ({pending_months}) AS pm
                          WHERE pm.dispositivo_id = m.dispositivo_id AND pm.mes = m.bucket)
        UNION ALL
        SELECT dispositivo_id, bucket, n, soma, minimo, maximo, primeiro, ultimo, ajuste
        FROM ({daily}) AS rt
        WHERE (dispositivo_id, date_trunc('month', bucket, {tz})) IN ({pending_months})"""


def consumption_by_month(
    *, conta_id: int, start: date, end: date, dispositivo_ids=None
) -> list[ConsumoMes]:
    """Per device and local month in [start's month, end's month), months with readings.

    Cumulative registers: the increase between consecutive readings, each step counted
    in the month of its later reading (so the step from last month's final reading to
    this month's first belongs to this month, and months add up to the total); a reading
    lower than the previous one is a counter reset and counts its own value from zero.

    A month with no pending day is read from its monthly row and its reset adjustment
    (the steps between its days telescope to `ultimo - primeiro + ajuste`); a month with a
    pending day from its real-time daily rows. Either kind of row ("unit") then takes the
    step from the previous unit's last value to its first.
    """
    kinds = _device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return []
    devs = list(kinds)
    lo = local_midnight(start.replace(day=1))
    hi = local_midnight(end.replace(day=1))
    tz = tz_literal()
    params = {"devs": devs, "lo": lo, "hi": hi, "origin": datetime(1, 1, 2, tzinfo=UTC)}
    units = _month_units(params)
    before = _pending_span(devs, params["origin"], lo)
    pending_before = ""
    if before:
        params["before_lo"], params["before_hi"] = before
        raw = raw_daily(
            pending_buckets("%(devs)s", "%(origin)s", "%(lo)s"),
            ("%(before_lo)s", "%(before_hi)s"),
        )
        pending_before = f"UNION ALL SELECT dispositivo_id, bucket, ultimo FROM ({raw}) AS r"
    sql = f"""
    WITH prev AS (
        SELECT DISTINCT ON (dispositivo_id) dispositivo_id, bucket, ultimo FROM (
            SELECT x.dispositivo_id, x.bucket, x.ultimo
            FROM unnest(%(devs)s::bigint[]) AS dv(id)
            CROSS JOIN LATERAL (
                SELECT d.dispositivo_id, d.bucket, d.ultimo FROM {DAILY} AS d
                WHERE d.dispositivo_id = dv.id AND d.bucket < %(lo)s
                  AND NOT EXISTS (SELECT 1 FROM {PENDING} AS p
                                  WHERE p.dispositivo_id = d.dispositivo_id
                                    AND p.bucket = d.bucket)
                ORDER BY d.bucket DESC LIMIT 1
            ) AS x
            {pending_before}
        ) AS candidates
        ORDER BY dispositivo_id, bucket DESC
    ), units AS (
        SELECT dispositivo_id, bucket, n, soma, minimo, maximo, primeiro, ultimo, ajuste,
               lag(ultimo) OVER (PARTITION BY dispositivo_id ORDER BY bucket) AS ultimo_ant,
               date_trunc('month', bucket AT TIME ZONE {tz}) AS mes
        FROM (
            {units}
            UNION ALL
            SELECT dispositivo_id, bucket, NULL, NULL, NULL, NULL, NULL, ultimo, NULL FROM prev
        ) AS u
    )
    SELECT dispositivo_id, mes::date,
           sum(n)::bigint, sum(soma), min(minimo), round(sum(soma) / sum(n), 4), max(maximo),
           sum(ultimo - primeiro + ajuste
               + CASE WHEN ultimo_ant IS NULL THEN 0
                      WHEN primeiro >= ultimo_ant THEN primeiro - ultimo_ant
                      ELSE primeiro END)
    FROM units WHERE n IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2"""
    rows = _fetch(sql, params)
    result = []
    for disp, mes, n, soma, minimo, media, maximo, acumulado in rows:
        kind = kinds[disp]
        consumo = {"ACUMULADO": acumulado, "INTERVALO": soma}.get(kind)
        result.append(ConsumoMes(disp, mes, kind, consumo, n, soma, minimo, media, maximo))
    return result

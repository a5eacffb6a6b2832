"""Consumption between consecutive readings and per local hour or day, by meter kind
(the alarm engine's reads; consumption.py has the months).

The same semantics as consumption_by_month: a cumulative register (ACUMULADO) consumes
the increase from the previous reading, and a reading lower than the previous one is a
counter reset that counts its own value from zero; an interval meter (INTERVALO)
consumes its value; an instantaneous meter (INSTANTANEO) consumes nothing (None).
`step_sql` is that rule for the queries, `step` its Python twin for readings already in
memory (the consumer's committed batch); a test holds them equal.
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


def step(kind: str, valor: Decimal, anterior: Decimal | None) -> Decimal | None:
    """The consumption of one reading given the previous one's value (as step_sql)."""
    if kind == "INTERVALO":
        return valor
    if kind != "ACUMULADO" or anterior is None:
        return None
    return valor - anterior if valor >= anterior else valor


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


def steps_for_rows(
    *, conta_id: int, rows, lookback: timedelta = timedelta(hours=6)
) -> dict[int, list[Step]]:
    """Steps of readings just committed (ReadingRows of one account), by device in time
    order, without reading them back: the reading before each device's first one is one
    index probe per device (looked for up to `lookback` earlier). What consumption_steps
    would answer for the same readings when nothing else arrived in between."""
    per_dev: dict[int, list] = {}
    for r in rows:
        per_dev.setdefault(r.dispositivo_id, []).append((r.time, r.valor))
    kinds = device_kinds(conta_id, list(per_dev))
    firsts = {}
    for dev, items in per_dev.items():
        items.sort()
        firsts[dev] = items[0][0]
    prev: dict[int, tuple] = {}
    if firsts:
        lo = min(firsts.values()) - lookback
        with connection.cursor() as cur:
            cur.execute(
                f"""SELECT f.dev, p.time, p.valor
                    FROM unnest(%s::bigint[], %s::timestamptz[]) AS f(dev, first)
                    CROSS JOIN LATERAL (
                        SELECT time, valor FROM {READINGS}
                        WHERE dispositivo_id = f.dev AND time < f.first AND time >= %s
                        ORDER BY time DESC LIMIT 1
                    ) AS p""",
                [list(firsts), list(firsts.values()), lo],
            )
            prev = {dev: (t, v) for dev, t, v in cur.fetchall()}
    out: dict[int, list[Step]] = {}
    for dev, items in per_dev.items():
        kind = kinds.get(dev)
        if kind is None:
            continue  # not this account's device
        before_t, before_v = prev.get(dev, (None, None))
        steps = []
        for t, v in items:
            if t == before_t:
                continue  # the same reading twice in the batch
            steps.append(Step(dev, t, v, before_t, before_v, step(kind, v, before_v)))
            before_t, before_v = t, v
        out[dev] = steps
    return out


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


# -- the Prévia's reads: only the readings that can change a rule's state ---------------


def _fetch_by_device(sql: str, params: dict) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for dev, *rest in cur.fetchall():
            out.setdefault(dev, []).append(tuple(rest))
    return out


def threshold_samples(
    *,
    conta_id: int,
    dispositivo_ids,
    start: datetime,
    end: datetime,
    upper: Decimal | None,
    lower: Decimal | None,
    band: Decimal,
    duration: timedelta,
    rate: bool = False,
) -> dict[int, list[tuple[datetime, Decimal]]]:
    """{device: [(time, x)]}: x is a reading's value or, with `rate`, its hourly rate
    from the previous reading (the step rule). Readings are classed beyond a limit (A),
    back past the limit by `band` (C) or in between (B); kept are the first of each run
    of one class and, in an A run, the first at or after the run's start + `duration`.
    A limit's state (alarmes.logic.limit_samples) changes only at those, so they give the
    same alarms as every reading, from a fraction of the rows."""
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return {}
    x = (
        f"""({step_sql("d.tipo_medidor", "w.valor", "w.anterior")}) * 3600
            / nullif(extract(epoch FROM w.time - w.anterior_em), 0)"""
        if rate
        else "w.valor"
    )
    sql = f"""
    WITH x AS (
        SELECT w.dispositivo_id, w.time, {x} AS x
        FROM ({_with_previous()}) AS w
        JOIN tds_new_dispositivo AS d ON d.id = w.dispositivo_id
        WHERE w.time >= %(start)s
    ), c AS (
        SELECT dispositivo_id, time, x,
               CASE WHEN x > %(up)s::numeric OR x < %(low)s::numeric THEN 'A'
                    WHEN (%(up)s::numeric IS NULL OR x < %(up)s::numeric - %(band)s::numeric)
                     AND (%(low)s::numeric IS NULL OR x > %(low)s::numeric + %(band)s::numeric)
                    THEN 'C' ELSE 'B' END AS cls
        FROM x WHERE x IS NOT NULL
    ), g AS (
        SELECT *, row_number() OVER (PARTITION BY dispositivo_id ORDER BY time)
                - row_number() OVER (PARTITION BY dispositivo_id, cls ORDER BY time) AS grp
        FROM c
    ), r AS (
        SELECT *, min(time) OVER (PARTITION BY dispositivo_id, cls, grp) AS run_start FROM g
    ), k AS (
        SELECT *, row_number() OVER (
                   PARTITION BY dispositivo_id, cls, grp, time >= run_start + %(dur)s
                   ORDER BY time) AS n
        FROM r
    )
    SELECT dispositivo_id, time, x FROM k
    WHERE time = run_start OR (cls = 'A' AND time >= run_start + %(dur)s AND n = 1)
    ORDER BY dispositivo_id, time"""
    params = {
        "devs": list(kinds),
        "lo": start - timedelta(hours=6),
        "start": start,
        "end": end,
        "up": upper,
        "low": lower,
        "band": band or Decimal(0),
        "dur": duration,
    }
    return _fetch_by_device(sql, params)


def backward_steps(
    *, conta_id: int, dispositivo_ids, start: datetime, end: datetime, above: Decimal
) -> dict[int, list[Step]]:
    """{device: [Step]} of the cumulative registers' readings lower than the previous one
    and above `above` (a reset to about zero is not listed)."""
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return {}
    sql = f"""
        SELECT w.dispositivo_id, w.dispositivo_id, w.time, w.valor, w.anterior_em, w.anterior,
               {step_sql("d.tipo_medidor", "w.valor", "w.anterior")}
        FROM ({_with_previous()}) AS w
        JOIN tds_new_dispositivo AS d ON d.id = w.dispositivo_id
        WHERE w.time >= %(start)s AND d.tipo_medidor = 'ACUMULADO'
          AND w.valor < w.anterior AND w.valor > %(above)s
        ORDER BY 1, 3"""
    params = {
        "devs": list(kinds),
        "lo": start - timedelta(hours=6),
        "start": start,
        "end": end,
        "above": above,
    }
    return {
        dev: [Step(*row) for row in rows] for dev, rows in _fetch_by_device(sql, params).items()
    }


def reading_gaps(
    *, conta_id: int, dispositivo_ids, start: datetime, end: datetime, longer_than: dict
) -> dict[int, dict]:
    """{device: {"last": time, "gaps": [(before, after)]}}: each device's last reading in
    [start, end) and the silences between consecutive readings longer than
    `longer_than[device]` (a timedelta)."""
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return {}
    devs = list(kinds)
    sql = f"""
        SELECT dispositivo_id, anterior_em, time, l FROM (
            SELECT w.dispositivo_id, w.anterior_em, w.time,
                   max(w.time) OVER (PARTITION BY w.dispositivo_id) AS l,
                   row_number() OVER (PARTITION BY w.dispositivo_id ORDER BY w.time) AS n,
                   w.time - w.anterior_em > lim.gap AS silent
            FROM ({_with_previous()}) AS w
            JOIN unnest(%(devs)s::bigint[], %(limits)s::interval[]) AS lim(dev, gap)
              ON lim.dev = w.dispositivo_id
            WHERE w.time >= %(start)s
        ) AS z
        WHERE n = 1 OR silent
        ORDER BY 1, 3"""
    params = {
        "devs": devs,
        "limits": [longer_than[d] for d in devs],
        "lo": start - timedelta(hours=6),
        "start": start,
        "end": end,
    }
    out: dict[int, dict] = {}
    for dev, rows in _fetch_by_device(sql, params).items():
        gaps = [(a, b) for a, b, _l in rows if a is not None and b - a > longer_than[dev]]
        out[dev] = {"last": rows[0][2], "gaps": gaps}
    return out

"""Consumption between consecutive readings and per local hour or day, by meter kind
(the alarm engine's reads; consumption.py has the months).

The same semantics as billing (consumption_by_month, consumption_by_day): a cumulative
register (ACUMULADO) consumes the increase from the previous reading; a reading lower
than the previous one is a rollover only when it comes from near the register's maximum
(counted through the maximum), any other backwards step counts zero (sql.step_adjustment);
an interval meter (INTERVALO) consumes its value; an instantaneous meter (INSTANTANEO)
consumes nothing (None). `step_sql` is that rule for the queries, `step` its Python twin
for readings already in memory (the consumer's committed batch); a test holds them equal.

Unlike billing, the step into a range's first reading is counted only when the reading
before it is near: within the look-back for hours (6 hours), on the day before for days
(consumption_by_day takes it from the newest earlier day: a meter silent on 9 March that
reads 1010 on the 8th and 1050, 1060 on the 10th consumed 50 on the 10th there, 10 here).
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction

from .aggregates import realtime_daily_between
from .series import DAY
from .sql import (
    device_kinds,
    device_meters,
    register_modulus,
    step_adjustment,
    step_consumption,
    zone,
)
from .tables import READINGS

HOUR = "hour"


def step_sql(kind: str, valor: str, anterior: str, modulus: str) -> str:
    """SQL for the consumption of one reading given the previous one's value and the
    register's modulus (sql.register_modulus of the device)."""
    return f"""CASE {kind} WHEN 'INTERVALO' THEN {valor}
        WHEN 'ACUMULADO' THEN CASE WHEN {anterior} IS NULL THEN NULL
            ELSE {valor} - {anterior} + {step_adjustment(anterior, valor, modulus)} END
        END"""


def step(
    kind: str, valor: Decimal, anterior: Decimal | None, modulus: Decimal | None = None
) -> Decimal | None:
    """The consumption of one reading given the previous one's value (as step_sql)."""
    if kind == "INTERVALO":
        return valor
    if kind != "ACUMULADO" or anterior is None:
        return None
    return step_consumption(valor, anterior, modulus)


def _step_of(alias: str, valor: str, anterior: str) -> str:
    """step_sql for the device table aliased `alias`."""
    return step_sql(f"{alias}.tipo_medidor", valor, anterior, register_modulus(alias))


class Step(NamedTuple):
    dispositivo_id: int
    time: datetime
    valor: Decimal
    anterior_em: datetime | None  # the previous reading, within the look-back
    anterior: Decimal | None
    consumo: Decimal | None  # by meter kind; None for the first or an instantaneous one


def _with_previous(windows: bool = False, ends: bool = False) -> str:
    """SQL: the readings of %(devs)s in [%(start)s, %(end)s) with the previous reading's
    time and value, by device then time. Per device: the reading before %(start)s is one
    index probe (looked for back to %(lo)s), and lag() runs over that device's readings
    alone, in the time order its index gives (one sort of every device's readings
    together was most of a 30-day read). With `windows`: only the readings in the ranges
    [%(w_from)s[i], %(w_to)s[i]) (whole local hours, e.g. leak nights), each range with
    its own probe for the reading before it (looked for up to 6 hours back). With
    `ends`: each device's readings only up to and including its %(ends)s[i]."""
    devices = "unnest(%(devs)s::bigint[]) AS dv(id)"
    upto = ""
    if ends:
        devices = "unnest(%(devs)s::bigint[], %(ends)s::timestamptz[]) AS dv(id, upto)"
        upto = " AND time <= dv.upto"
    if windows:
        ranges = """CROSS JOIN unnest(%(w_from)s::timestamptz[], %(w_to)s::timestamptz[])
                    AS k(a, b)"""
        lo, first, last = "k.a - interval '6 hours'", "k.a", "k.b"
    else:
        ranges, lo, first, last = "", "%(lo)s", "%(start)s", "%(end)s"
    return f"""
        SELECT dv.id AS dispositivo_id, s.time, s.valor, s.anterior_em, s.anterior
        FROM {devices}
        {ranges}
        {_previous_probe(first, lo)}
        CROSS JOIN LATERAL ({_device_readings(first, last, upto)}) AS s"""


def _previous_probe(first: str = "%(start)s", lo: str = "%(lo)s") -> str:
    """SQL (a join for each dv.id): p.t0, p.v0 = the device's last reading before
    `first` and not before `lo` (NULLs when none)."""
    return f"""LEFT JOIN LATERAL (
            SELECT time AS t0, valor AS v0 FROM {READINGS}
            WHERE dispositivo_id = dv.id AND time < {first} AND time >= {lo}
              AND time >= %(lo)s
            ORDER BY time DESC LIMIT 1
        ) AS p ON true"""


def _device_readings(first: str = "%(start)s", last: str = "%(end)s", extra: str = "") -> str:
    """SQL (a subquery for each dv.id, after _previous_probe): the device's readings in
    [first, last) with the previous one's time and value, in time order."""
    return f"""
            SELECT time, valor, lag(time, 1, p.t0) OVER w AS anterior_em,
                   lag(valor, 1, p.v0) OVER w AS anterior
            FROM {READINGS}
            WHERE dispositivo_id = dv.id AND time >= {first} AND time < {last}
              AND time >= %(start)s AND time < %(end)s{extra}
            WINDOW w AS (ORDER BY time)"""


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
               {_step_of("d", "x.valor", "x.anterior")}
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
    *, conta_id: int, rows, lookback: timedelta = timedelta(hours=6), meters: dict | None = None
) -> dict[int, list[Step]]:
    """Steps of readings just committed (ReadingRows of one account), by device in time
    order, without reading them back: the reading before each device's first one is one
    index probe per device (looked for up to `lookback` earlier). What consumption_steps
    would answer for the same readings when nothing else arrived in between. `meters`:
    {device: (tipo_medidor, modulus)} of the account's devices when the caller already
    has them (device_meters), to spare the query."""
    per_dev: dict[int, list] = {}
    for r in rows:
        per_dev.setdefault(r.dispositivo_id, []).append((r.time, r.valor))
    if meters is None:
        meters = device_meters(conta_id, list(per_dev))
    for items in per_dev.values():
        items.sort()
    prev = previous_readings({dev: items[0][0] for dev, items in per_dev.items()}, lookback)
    out: dict[int, list[Step]] = {}
    for dev, items in per_dev.items():
        meter = meters.get(dev)
        if meter is None:
            continue  # not this account's device
        out[dev] = device_steps(dev, items, prev.get(dev), meter)
    return out


def array_literal(values) -> str:
    """A PostgreSQL array literal of ints or timestamps (to cast in the SQL: ::bigint[],
    ::timestamptz[]); psycopg's dumping of a Python list cost more than the probe itself."""
    values = list(values)
    if values and isinstance(values[0], datetime):
        # a batch's devices share a few instants: each written once
        texts = {t: t.isoformat() for t in set(values)}
        return "{" + ",".join(map(texts.__getitem__, values)) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def previous_readings_query(
    firsts: dict, lookback: timedelta = timedelta(hours=6), *, stored: dict | None = None
):
    """(sql, params) of previous_readings, for a caller that sends it with another query
    in one round trip; previous_from_rows reads its rows.

    `stored`: {device: the time of a reading known to be stored} (the caller saw it
    committed). When it is before the device's first, the reading sought is at or after
    it, and the device's probe starts there instead of `lookback` before: the same
    answer from a window of a row or two. Without it the probe visited, per device,
    every reading of the lookback: a few hundred a batch, sorted, when the planner's
    statistics called the newest partition empty (a partition just created or emptied),
    which made the probe of 200 devices grow by 1 ms a batch."""
    lo = min(firsts.values()) - lookback if firsts else None
    stored = stored or {}
    los = []
    for dev, first in firsts.items():
        known = stored.get(dev)
        los.append(known if known is not None and lo < known < first else lo)
    # The row or two at or after the known reading, then (only for a device where that
    # finds none: its known reading was deleted) the rest of the lookback: a one-time
    # filter skips the second probe for every other device.
    sql = f"""SELECT dv.id, {_micros("coalesce(n.t0, w.t0)")}, coalesce(n.v0, w.v0)
        FROM unnest(%(p_devs)s::bigint[], %(p_firsts)s::timestamptz[],
                    %(p_los)s::timestamptz[]) AS dv(id, first, lo)
        LEFT JOIN LATERAL (
            SELECT time AS t0, valor AS v0 FROM {READINGS}
            WHERE dispositivo_id = dv.id AND time < dv.first AND time >= dv.lo
              AND time >= %(p_lo)s AND time < %(p_hi)s
            ORDER BY time DESC LIMIT 1
        ) AS n ON true
        LEFT JOIN LATERAL (
            SELECT time AS t0, valor AS v0 FROM {READINGS}
            WHERE n.t0 IS NULL AND dv.lo > %(p_lo)s
              AND dispositivo_id = dv.id AND time < dv.lo AND time >= %(p_lo)s
              AND time < %(p_hi)s
            ORDER BY time DESC LIMIT 1
        ) AS w ON true
        WHERE coalesce(n.t0, w.t0) IS NOT NULL"""
    params = {
        "p_devs": array_literal(firsts),
        "p_firsts": array_literal(firsts.values()),
        "p_los": array_literal(los),
        "p_lo": lo,
        "p_hi": max(firsts.values()) if firsts else None,  # both prune partitions
    }
    return sql, params


def previous_from_rows(rows) -> dict:
    """{device: (time, value)} from previous_readings_query's rows (the time as epoch
    microseconds: psycopg's parsing of a timestamptz cost more than the probe)."""
    times = {t: _from_micros(t) for t in {row[1] for row in rows}}  # a few instants
    return {dev: (times[t], v) for dev, t, v in rows}


def previous_readings(
    firsts: dict, lookback: timedelta = timedelta(hours=6), *, stored: dict | None = None
) -> dict:
    """{device: (time, value) of its last reading before firsts[device]} (looked for up to
    `lookback` before the earliest of them; devices without one are absent). `stored`:
    see previous_readings_query."""
    if not firsts:
        return {}
    sql, params = previous_readings_query(firsts, lookback, stored=stored)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return previous_from_rows(cur.fetchall())


def recent_readings_query(conta_id: int, start: datetime, end: datetime):
    """(sql, params) of every reading of the account in [start, end) as (device, epoch
    µs, value): one range of the account's (conta_id, time) index, for
    previous_from_recent. When the readings before a batch are the account's last few
    seconds (a consumer's batches, one after the other), this reads them for a thousand
    devices in a fraction of what a probe per device costs (0.3 ms against 4.6)."""
    sql = f"""SELECT dispositivo_id, {_micros("time")}, valor FROM {READINGS}
        WHERE conta_id = %(r_conta)s AND time >= %(r_start)s AND time < %(r_end)s"""
    return sql, {"r_conta": conta_id, "r_start": start, "r_end": end}


def previous_from_recent(rows, firsts: dict) -> dict:
    """{device: (time, value) of its last reading before firsts[device]} among
    recent_readings_query's rows; a device with none there is absent."""
    micros = {t: (t - _EPOCH) // _MICROSECOND for t in set(firsts.values())}
    before = {d: micros[t] for d, t in firsts.items()}
    best: dict[int, tuple[int, Decimal]] = {}
    for dev, us, valor in rows:
        limit = before.get(dev)
        if limit is not None and us < limit:
            found = best.get(dev)
            if found is None or us > found[0]:
                best[dev] = (us, valor)
    return previous_from_rows([(dev, us, v) for dev, (us, v) in best.items()])


def device_steps(dev: int, items, before, meter) -> list[Step]:
    """One device's Steps from its readings [(time, value)] in time order, the reading
    before them (time, value) or None, and its meter (tipo_medidor, modulus)."""
    kind, modulus = meter
    before_t, before_v = before or (None, None)
    steps = []
    for t, v in items:
        if t == before_t:
            continue  # the same reading twice in the batch
        steps.append(Step(dev, t, v, before_t, before_v, step(kind, v, before_v, modulus)))
        before_t, before_v = t, v
    return steps


class PeriodConsumption(NamedTuple):
    dispositivo_id: int
    bucket: datetime  # local hour or day start
    consumo: Decimal | None
    n: int


def consumption_by_period(
    *,
    conta_id: int,
    dispositivo_ids,
    start: datetime,
    end: datetime,
    period: str,
    windows: list[tuple[datetime, datetime]] | None = None,
    kinds: dict | None = None,
    ends: dict | None = None,
) -> list[PeriodConsumption]:
    """Consumption per device and local hour (`HOUR`) or day (`DAY`) with a reading in
    [start, end), by device then bucket. Each step counts in the bucket of its later
    reading (buckets add up to the total, as months do). Days come from the daily
    aggregates (real-time), hours from the raw readings. `windows` (hours only): read
    only the readings in these [from, to) ranges (whole local hours, e.g. leak nights),
    each first one with its previous reading, instead of the whole [start, end).
    `kinds`: {device: tipo_medidor} of the account's devices when the caller already has
    them (the consumer's rule set), to spare the query. `ends` (hours only): {device:
    time}: each device's readings only up to and including its time (the consumer:
    each device's last reading of the batch)."""
    if kinds is None:
        kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return []
    devs = list(kinds)
    if period == HOUR:
        # Local hours as bins from a local midnight: one subtraction a reading instead of
        # a time-zone conversion (equal for any zone whose offsets differ by whole hours).
        origin = datetime.combine(start.astimezone(zone()).date(), datetime.min.time(), zone())
        readings = _with_previous(windows=windows is not None, ends=ends is not None)
        sql = f"""
            SELECT x.dispositivo_id, date_bin('1 hour', x.time, %(origin)s) AS bucket,
                   sum({_step_of("d", "x.valor", "x.anterior")}), count(*)
            FROM ({readings}) AS x
            JOIN tds_new_dispositivo AS d ON d.id = x.dispositivo_id
            WHERE x.time >= %(start)s
            GROUP BY 1, 2 ORDER BY 1, 2"""
        params = {
            "devs": devs,
            "lo": start - timedelta(hours=6),
            "start": start,
            "end": end,
            "origin": origin,
        }
        if ends is not None:
            params["ends"] = [ends[d] for d in devs]
        if windows is not None:
            windows = [(max(a, start), min(b, end)) for a, b in windows if a < end and b > start]
            if not windows:
                return []
            params["w_from"] = [a for a, _b in windows]
            params["w_to"] = [b for _a, b in windows]
    elif period == DAY:
        # Days from [start - 1 day) so the first day gets the step from the day before.
        params = {"devs": devs, "lo": start - timedelta(days=1), "start": start, "hi": end}
        daily = realtime_daily_between(params, "lo", "hi", "span")
        between = f"""CASE WHEN ultimo_ant IS NULL THEN 0
            ELSE primeiro - ultimo_ant
                 + {step_adjustment("ultimo_ant", "primeiro", register_modulus("d"))} END"""
        sql = f"""
            SELECT x.dispositivo_id, x.bucket,
                   CASE d.tipo_medidor WHEN 'INTERVALO' THEN x.soma
                        WHEN 'ACUMULADO' THEN ultimo - primeiro + ajuste + {between} END, x.n
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
    # the consumer's per-batch read is short: no transaction around it
    long = period == HOUR and end - start > timedelta(days=1)
    with _long_read() if long else connection.cursor() as cur:
        cur.execute(sql, params)
        return [PeriodConsumption(*row) for row in cur.fetchall()]


def last_reading_times(*, conta_id: int, dispositivo_ids, since: datetime) -> dict[int, datetime]:
    """{device id: time of its last reading at or after `since`} (devices without one
    are absent). One index probe per device: a max() over every reading since `since`
    (a day and more, for the no-data job every minute) read them all (96 meters with a
    reading a minute: 56 ms vs 2–3 ms)."""
    devs = list(device_kinds(conta_id, dispositivo_ids))
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT dv.id, l.time FROM unnest(%s::bigint[]) AS dv(id)
                CROSS JOIN LATERAL (
                    SELECT time FROM {READINGS}
                    WHERE dispositivo_id = dv.id AND time >= %s
                    ORDER BY time DESC LIMIT 1
                ) AS l""",
            [devs, since],
        )
        return dict(cur.fetchall())


# -- the Prévia's reads: only the readings that can change a rule's state ---------------


@contextmanager
def _long_read():
    """A cursor for the reads over weeks of readings (the Prévia): JIT off (compiling a
    plan of these cost 0.27 s and saved less) and room for their sorts in memory."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute("SET LOCAL work_mem = '64MB'")
        yield cur


def _fetch_by_device(sql: str, params: dict) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    with _long_read() as cur:
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
    # A rate in float8 (as the engine's, alarmes.logic.rate_samples): numeric division
    # and extract() (numeric since PostgreSQL 14) were most of the query's time.
    x = (
        f"""({_step_of("d", "w.valor", "w.anterior")})::float8 * 3600
            / nullif(date_part('epoch', w.time - w.anterior_em), 0)"""
        if rate
        else "w.valor"
    )
    num = "float8" if rate else "numeric"
    # Per device, every step in the time order of its index (no sort of all the devices'
    # readings together): a run starts where the class changes; its start is the running
    # max of the starts. OFFSET 0 keeps x computed once a reading, not once per
    # comparison (inlined, a rate's division ran five times a row).
    sql = f"""
    SELECT dv.id, {_micros("r.time")}, r.x
    FROM unnest(%(devs)s::bigint[]) AS dv(id)
    JOIN tds_new_dispositivo AS d ON d.id = dv.id
    {_previous_probe()}
    CROSS JOIN LATERAL (
        SELECT time, x FROM (
            SELECT *, max(CASE WHEN starts THEN time END) OVER (ORDER BY time) AS run_start
            FROM (
                SELECT *, lag(cls) OVER (ORDER BY time) IS DISTINCT FROM cls AS starts,
                       lag(time) OVER (ORDER BY time) AS time_ant
                FROM (
                    SELECT time, x,
                        CASE WHEN x > %(up)s::{num} OR x < %(low)s::{num} THEN 'A'
                             WHEN (%(up)s::{num} IS NULL
                                   OR x < %(up)s::{num} - %(band)s::{num})
                              AND (%(low)s::{num} IS NULL
                                   OR x > %(low)s::{num} + %(band)s::{num})
                             THEN 'C' ELSE 'B' END AS cls
                    FROM (
                        SELECT w.time, {x} AS x FROM ({_device_readings()}) AS w OFFSET 0
                    ) AS xs
                    WHERE x IS NOT NULL
                ) AS c
            ) AS g
        ) AS r
        WHERE starts
           OR (cls = 'A' AND time >= run_start + %(dur)s AND time_ant < run_start + %(dur)s)
    ) AS r
    ORDER BY dv.id, r.time"""
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
    out = _fetch_by_device(sql, params)
    return {dev: [(_from_micros(t), x) for t, x in rows] for dev, rows in out.items()}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(col: str) -> str:
    """SQL: a timestamptz as integer microseconds since the epoch (exact, and parsed
    an order of magnitude faster than a timestamptz when a query returns many rows)."""
    return f"(extract(epoch FROM {col}) * 1000000)::bigint"


def _from_micros(n: int) -> datetime:
    return _EPOCH + timedelta(microseconds=n)


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
               {_step_of("d", "w.valor", "w.anterior")}
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

"""Consumption per device and local day, and per arbitrary runs of days (billing periods).

Same meter semantics as `consumption_by_month` (one owner: this package): for a
cumulative register each step between consecutive readings counts in the day of its
later reading, and a reading lower than the previous one is a counter reset that counts
its own value from zero; an interval meter's consumption is the sum; an instantaneous
meter has none. Days therefore add up to any period made of whole days, e.g. a billing
period that runs from the 10th to the 9th.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from .aggregates import pending_buckets, raw_daily
from .queries import (
    _device_kinds,
    _fetch,
    _pending_span,
    _realtime_daily,
    _zone,
    local_midnight,
)
from .tables import DAILY, PENDING


class ConsumoDia(NamedTuple):
    """One device's local day with readings."""

    dispositivo_id: int
    dia: date
    consumo: Decimal | None  # None for an instantaneous meter
    n: int
    ultimo_em: datetime  # time of the day's last reading


class ConsumoPeriodo(NamedTuple):
    """One device's consumption in the period [inicio, fim) (local days)."""

    dispositivo_id: int
    inicio: date
    fim: date  # exclusive
    consumo: Decimal | None
    n: int  # readings
    dias_com_leitura: int
    ultima_leitura: datetime | None


def _daily_steps_sql(params: dict) -> str:
    """Per device and local day in [%(lo)s, %(hi)s): the within-day increase plus the step
    from the previous reading (the previous day with readings, or the last day before lo)."""
    daily = _realtime_daily(params, "lo", "hi", "span")
    before = _pending_span(params["devs"], params["origin"], params["lo"])
    pending_before = ""
    if before:
        params["before_lo"], params["before_hi"] = before
        raw = raw_daily(
            pending_buckets("%(devs)s", "%(origin)s", "%(lo)s"),
            ("%(before_lo)s", "%(before_hi)s"),
        )
        pending_before = f"UNION ALL SELECT dispositivo_id, bucket, ultimo FROM ({raw}) AS r"
    return f"""
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
    ), days AS (
        SELECT dispositivo_id, bucket, n, soma, primeiro, ultimo, ajuste, ultimo_em,
               lag(ultimo) OVER (PARTITION BY dispositivo_id ORDER BY bucket) AS ultimo_ant
        FROM (
            SELECT dispositivo_id, bucket, n, soma, primeiro, ultimo, ajuste, ultimo_em
            FROM ({daily}) AS rt
            UNION ALL
            SELECT dispositivo_id, bucket, NULL, NULL, NULL, ultimo, NULL, NULL FROM prev
        ) AS u
    )
    SELECT dispositivo_id, bucket, n::bigint, soma, ultimo_em,
           ultimo - primeiro + ajuste
             + CASE WHEN ultimo_ant IS NULL THEN 0
                    WHEN primeiro >= ultimo_ant THEN primeiro - ultimo_ant
                    ELSE primeiro END AS acumulado
    FROM days WHERE n IS NOT NULL"""


def _params(kinds: dict, start: date, end: date) -> dict:
    return {
        "devs": list(kinds),
        "lo": local_midnight(start),
        "hi": local_midnight(end),
        "origin": datetime(1, 1, 2, tzinfo=UTC),
    }


def _consumo(kind: str, acumulado, soma):
    return {"ACUMULADO": acumulado, "INTERVALO": soma}.get(kind)


def consumption_by_day(
    *, conta_id: int, start: date, end: date, dispositivo_ids=None
) -> list[ConsumoDia]:
    """Per device and local day in [start, end), days with readings, by device then day."""
    kinds = _device_kinds(conta_id, dispositivo_ids)
    if not kinds or start >= end:
        return []
    params = _params(kinds, start, end)
    rows = _fetch(
        f"SELECT dispositivo_id, bucket, n, soma, ultimo_em, acumulado"
        f" FROM ({_daily_steps_sql(params)}) AS s ORDER BY 1, 2",
        params,
    )
    zone = _zone()
    return [
        ConsumoDia(disp, bucket.astimezone(zone).date(), _consumo(kinds[disp], acum, soma), n, em)
        for disp, bucket, n, soma, em, acum in rows
    ]


def consumption_by_period(
    *, conta_id: int, boundaries: Sequence[date], dispositivo_ids=None
) -> list[ConsumoPeriodo]:
    """Per device and period, for the consecutive periods [b0, b1), [b1, b2), ... given by
    the ascending local dates `boundaries`; only (device, period) pairs with readings."""
    bounds = sorted(set(boundaries))
    kinds = _device_kinds(conta_id, dispositivo_ids)
    if not kinds or len(bounds) < 2:
        return []
    params = _params(kinds, bounds[0], bounds[-1])
    params["bounds"] = [local_midnight(b) for b in bounds]
    rows = _fetch(
        f"""SELECT dispositivo_id, width_bucket(bucket, %(bounds)s::timestamptz[]) AS k,
                   sum(n)::bigint, sum(soma), sum(acumulado), count(*), max(ultimo_em)
            FROM ({_daily_steps_sql(params)}) AS s GROUP BY 1, 2 ORDER BY 1, 2""",
        params,
    )
    return [
        ConsumoPeriodo(
            disp, bounds[k - 1], bounds[k], _consumo(kinds[disp], acum, soma), n, dias, ultimo
        )
        for disp, k, n, soma, acum, dias, ultimo in rows
    ]

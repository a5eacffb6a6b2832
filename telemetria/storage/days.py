"""Consumption per device and local day, and per arbitrary runs of days (billing periods).

Same meter semantics as `consumption_by_month` (one owner: this package): for a
cumulative register each step between consecutive readings counts in the day of its
later reading, and a reading lower than the previous one is a rollover only near the
register's maximum, otherwise it counts zero (storage.sql.step_adjustment); an interval meter's consumption is the sum; an instantaneous
meter has none. Days therefore add up to any period made of whole days, e.g. a billing
period that runs from the 10th to the 9th.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from dispositivos.models import TipoMedidor

from .aggregates import realtime_daily, realtime_daily_between
from .consumption import _EPOCH, _previous_values
from .sql import (
    device_kinds,
    fetch,
    fetch_without_jit,
    local_midnight,
    register_modulus,
    step_adjustment,
    zone,
)
from .tables import DEVICES, PENDING


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
    from the previous reading (the previous day with readings, or the last day before lo,
    as consumption_by_month takes it)."""
    daily = realtime_daily_between(params, "lo", "hi", "span")
    return f"""
    WITH prev AS ({_previous_values(params)}
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
    SELECT days.dispositivo_id, bucket, n::bigint, soma, ultimo_em,
           ultimo - primeiro + ajuste
             + CASE WHEN ultimo_ant IS NULL THEN 0
                    ELSE primeiro - ultimo_ant
                         + {step_adjustment("ultimo_ant", "primeiro", register_modulus("dv"))}
               END AS acumulado
    FROM days JOIN {DEVICES} AS dv ON dv.id = days.dispositivo_id
    WHERE n IS NOT NULL"""


def _params(kinds: dict, start: date, end: date) -> dict:
    return {
        "devs": list(kinds),
        "lo": local_midnight(start),
        "hi": local_midnight(end),
        "origin": _EPOCH,
    }


def _consumo(kind: str, acumulado, soma):
    return {TipoMedidor.ACUMULADO: acumulado, TipoMedidor.INTERVALO: soma}.get(kind)


def consumption_by_day(
    *, conta_id: int, start: date, end: date, dispositivo_ids=None
) -> list[ConsumoDia]:
    """Per device and local day in [start, end), days with readings, by device then day."""
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds or start >= end:
        return []
    params = _params(kinds, start, end)
    rows = fetch(
        f"SELECT dispositivo_id, bucket, n, soma, ultimo_em, acumulado"
        f" FROM ({_daily_steps_sql(params)}) AS s ORDER BY 1, 2",
        params,
    )
    tz = zone()
    return [
        ConsumoDia(disp, bucket.astimezone(tz).date(), _consumo(kinds[disp], acum, soma), n, em)
        for disp, bucket, n, soma, em, acum in rows
    ]


def consumption_by_date_ranges(
    *, conta_id: int, boundaries: Sequence[date], dispositivo_ids=None
) -> list[ConsumoPeriodo]:
    """Per device and period, for the consecutive periods [b0, b1), [b1, b2), ... given by
    the ascending local dates `boundaries`; only (device, period) pairs with readings."""
    bounds = sorted(set(boundaries))
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds or len(bounds) < 2:
        return []
    params = _params(kinds, bounds[0], bounds[-1])
    params["bounds"] = [local_midnight(b) for b in bounds]
    rows = fetch(
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


def readings_count_for_day(*, conta_id: int, day: date) -> int:
    """How many readings the account has on the local `day`, from the day rollups (each
    device's stored row plus what arrived since the rollup job last ran, as
    consumption_by_day reads it): the same number as counting the raw readings of the
    day, at a cost that grows with the meters, not with the readings (8,000 meters
    reading every minute are 11.5 M readings a day). The account's devices are a
    sub-select, not a list of thousands of ids in the statement."""
    params = {
        "conta": conta_id,
        "lo": local_midnight(day),
        "hi": local_midnight(day + timedelta(days=1)),
    }
    devices = f"ARRAY(SELECT id FROM {DEVICES} WHERE conta_id = %(conta)s)"
    # A join, not `= ANY(array of the account's ids)`: 80,000 index probes of the pending
    # log took 189 ms (bench/big_account.py --full) where a join reads only its rows.
    (span,) = fetch(
        f"SELECT min(p.bucket), max(p.bucket) FROM {PENDING} AS p"
        f" JOIN {DEVICES} AS dv ON dv.id = p.dispositivo_id"
        " WHERE dv.conta_id = %(conta)s AND p.bucket >= %(lo)s AND p.bucket < %(hi)s",
        params,
    )
    if span[0] is None:
        daily = realtime_daily(devices, "%(lo)s", "%(hi)s", None, conta="%(conta)s")
    else:
        params["span_lo"], params["span_hi"] = span
        daily = realtime_daily(
            devices, "%(lo)s", "%(hi)s", ("%(span_lo)s", "%(span_hi)s"), conta="%(conta)s"
        )
    return fetch_without_jit(f"SELECT coalesce(sum(n), 0)::bigint FROM ({daily}) AS d", params)[0][
        0
    ]

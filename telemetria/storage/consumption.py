"""Consumption per device and local month, following each device's meter kind.

Cumulative register (ACUMULADO): the increase of the register, counter resets handled;
interval meter (INTERVALO): the sum; instantaneous (INSTANTANEO): no consumption, only
minimo / media / maximo. Real-time: days the rollup job has not refreshed yet are read
from the raw readings.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from dispositivos.models import TipoMedidor

from .aggregates import (
    DEVS,
    pending_buckets,
    pending_span,
    raw_daily,
    realtime_daily,
)
from .sql import (
    device_kinds,
    fetch,
    local_midnight,
    register_modulus,
    step_adjustment,
    tz_literal,
    zone,
)
from .tables import DAILY, DEVICES, MONTH_RESETS, MONTHLY, PENDING

_EPOCH = datetime(1, 1, 2, tzinfo=UTC)  # before any reading


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


def consumption_by_month(
    *, conta_id: int, start: date, end: date, dispositivo_ids=None
) -> list[ConsumoMes]:
    """Per device and local month in [start's month, end's month), months with readings.

    Cumulative registers: the increase between consecutive readings, each step counted
    in the month of its later reading (so the step from last month's final reading to
    this month's first belongs to this month, and months add up to the total); a reading
    lower than the previous one is a rollover when it comes from near the register's
    maximum (counted through the maximum), otherwise it counts zero (storage.sql).

    A month with no pending day is read from its monthly row and its reset adjustment
    (the steps between its days telescope to `ultimo - primeiro + ajuste`); a month with a
    pending day from its real-time daily rows. Either kind of row ("unit") then takes the
    step from the previous unit's last value to its first.
    """
    kinds = device_kinds(conta_id, dispositivo_ids)
    if not kinds:
        return []
    params = {
        "devs": list(kinds),
        "lo": local_midnight(start.replace(day=1)),
        "hi": local_midnight(end.replace(day=1)),
        "origin": _EPOCH,
    }
    units = _month_units(params)
    previous = _previous_values(params)
    rows = fetch(_per_month_sql(units, previous), params)
    return [_consumo_mes(row, kinds[row[0]]) for row in rows]


def _month_units(params: dict) -> str:
    """Rows ("units") of %(devs)s in [%(lo)s, %(hi)s): a month with no pending day as its
    monthly row with the month's reset adjustment, a month with a pending day (within the
    pending span, as in realtime_daily) as its real-time days."""
    stored = f"""
        SELECT m.dispositivo_id, m.bucket, m.n, m.soma, m.minimo, m.maximo, m.primeiro,
               m.ultimo, coalesce(r.ajuste, 0) AS ajuste
        FROM {MONTHLY} AS m
        LEFT JOIN {MONTH_RESETS} AS r ON r.dispositivo_id = m.dispositivo_id AND r.bucket = m.bucket
        WHERE m.dispositivo_id = ANY(%(devs)s::bigint[]) AND m.bucket >= %(lo)s AND m.bucket < %(hi)s"""
    span = pending_span(params["devs"], params["lo"], params["hi"])
    if span is None:
        return stored
    params["span_lo"], params["span_hi"] = span
    params["days_lo"] = local_midnight(span[0].astimezone(zone()).date().replace(day=1))
    tz = tz_literal()
    pending_months = f"""SELECT DISTINCT dispositivo_id, date_trunc('month', bucket, {tz}) AS mes
        FROM {PENDING} WHERE dispositivo_id = ANY(%(devs)s::bigint[])
         AND bucket >= %(span_lo)s AND bucket <= %(span_hi)s"""
    daily = realtime_daily(DEVS, "%(days_lo)s", "%(hi)s", ("%(span_lo)s", "%(span_hi)s"))
    return f"""{stored}
          AND NOT EXISTS (SELECT 1 FROM ({pending_months}) AS pm
                          WHERE pm.dispositivo_id = m.dispositivo_id AND pm.mes = m.bucket)
        UNION ALL
        SELECT dispositivo_id, bucket, n, soma, minimo, maximo, primeiro, ultimo, ajuste
        FROM ({daily}) AS rt
        WHERE (dispositivo_id, date_trunc('month', bucket, {tz})) IN ({pending_months})"""


def _previous_values(params: dict) -> str:
    """Each device's last value before %(lo)s (its newest day before the range: a stored
    day that is not pending, or a pending day computed from raw), so the first month
    takes the step from it."""
    before = pending_span(params["devs"], params["origin"], params["lo"])
    pending_before = ""
    if before:
        params["before_lo"], params["before_hi"] = before
        raw = raw_daily(
            pending_buckets("%(devs)s", "%(origin)s", "%(lo)s"),
            ("%(before_lo)s", "%(before_hi)s"),
        )
        pending_before = f"UNION ALL SELECT dispositivo_id, bucket, ultimo FROM ({raw}) AS r"
    return f"""
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
        ORDER BY dispositivo_id, bucket DESC"""


def _per_month_sql(units: str, previous: str) -> str:
    return _per_period_sql(
        units, previous, f"date_trunc('month', bucket AT TIME ZONE {tz_literal()})::date"
    )


def _per_period_sql(units: str, previous: str, period: str) -> str:
    """Statistics and register increase per device and period (SQL `period` of a unit's
    `bucket`): each unit adds its own increase (`ultimo - primeiro + ajuste`) and the step
    from the previous unit's last value (storage.sql.step_adjustment: a rollover near the
    register's maximum counts, any other step back counts zero)."""
    return f"""
    WITH prev AS ({previous}
    ), units AS (
        SELECT dispositivo_id, bucket, n, soma, minimo, maximo, primeiro, ultimo, ajuste,
               lag(ultimo) OVER (PARTITION BY dispositivo_id ORDER BY bucket) AS ultimo_ant,
               {period} AS mes,
               {register_modulus("dv")} AS modulo
        FROM (
            {units}
            UNION ALL
            SELECT dispositivo_id, bucket, NULL, NULL, NULL, NULL, NULL, ultimo, NULL FROM prev
        ) AS u
        JOIN {DEVICES} AS dv ON dv.id = u.dispositivo_id
    )
    SELECT dispositivo_id, mes,
           sum(n)::bigint, sum(soma), min(minimo), round(sum(soma) / sum(n), 4), max(maximo),
           sum(ultimo - primeiro + ajuste
               + CASE WHEN ultimo_ant IS NULL THEN 0
                      ELSE primeiro - ultimo_ant
                           + {step_adjustment("ultimo_ant", "primeiro", "modulo")} END)
    FROM units WHERE n IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2"""


def _consumo_mes(row: tuple, kind: str) -> ConsumoMes:
    disp, mes, n, soma, minimo, media, maximo, register_increase = row
    if kind == TipoMedidor.ACUMULADO:
        consumo = register_increase
    elif kind == TipoMedidor.INTERVALO:
        consumo = soma
    else:
        consumo = None
    return ConsumoMes(disp, mes, kind, consumo, n, soma, minimo, media, maximo)

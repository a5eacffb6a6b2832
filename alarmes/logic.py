"""The conditions of each rule kind as pure functions over data already read.

The live engine (one batch of readings), the window jobs (one window) and the 30-day
Prévia (the whole period) feed the same functions, so they cannot disagree. Each
returns events, in time order: Fire(inicio, em, valor) or Clear(em, valor), and the
state to carry on.
"""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from tds_core.localtime import day_end, day_start, zone

__all__ = ["day_start", "zone"]  # the engine and the Prévia take them from here


class Fire(NamedTuple):
    inicio: datetime  # since when the condition held
    em: datetime  # when it fired
    valor: Decimal | None


class Clear(NamedTuple):
    em: datetime
    valor: Decimal | None


@dataclass
class LimitState:
    aberto: bool = False
    pendente: datetime | None = None  # first sample of a condition still within its duration


def limit_samples(regra, samples, state: LimitState) -> list:
    """limite: `samples` = [(time, x)] in time order (x: a value or an hourly rate).
    Fires when x is above limite_superior (or below limite_inferior) for
    duracao_minutos; clears only once x is back past the limit by the hysteresis."""
    sup, inf, h = regra.limite_superior, regra.limite_inferior, regra.histerese or Decimal(0)
    dur = timedelta(minutes=regra.duracao_minutos or 0)
    # the clearing bounds once, not per sample (the Prévia feeds tens of thousands)
    clear_below = None if sup is None else sup - h
    clear_above = None if inf is None else inf + h
    events = []
    aberto, pendente = state.aberto, state.pendente
    for t, x in samples:
        if aberto:
            if (clear_below is None or x < clear_below) and (
                clear_above is None or x > clear_above
            ):
                events.append(Clear(t, x))
                aberto = False
            continue
        if (sup is not None and x > sup) or (inf is not None and x < inf):
            if pendente is None:
                pendente = t
            if t - pendente >= dur:
                events.append(Fire(pendente, t, x))
                aberto, pendente = True, None
        else:
            pendente = None
    state.aberto, state.pendente = aberto, pendente
    return events


def rate_samples(steps) -> list[tuple[datetime, float]]:
    """Hourly rates from consumption steps (storage Step rows of one device). Floats:
    Decimal division was most of the engine's time on a large batch; a rate that fires
    is stored rounded to 4 places (the readings' own precision)."""
    out = []
    for s in steps:
        if s.consumo is None or s.anterior_em is None or s.time <= s.anterior_em:
            continue
        out.append((s.time, float(s.consumo) * 3600.0 / (s.time - s.anterior_em).total_seconds()))
    return out


def period_consumption(regra, periods, *, aberto: bool, complete_before: datetime) -> list:
    """consumo: `periods` = [(bucket start, bucket end, consumo)] in order. Fires when a
    period's consumption passes the limit (as soon as it does, even mid-period); clears
    at the end of a complete period (ending by `complete_before`) back under the limit
    minus the hysteresis."""
    limite, h = regra.limite_superior, regra.histerese or Decimal(0)
    events = []
    for start, end, consumo in periods:
        if consumo is None:
            continue
        if not aberto and consumo > limite:
            events.append(Fire(start, max(start, min(end, complete_before)), consumo))
            aberto = True
        elif aberto and consumo < limite - h and end <= complete_before:
            events.append(Clear(end, consumo))
            aberto = False
    return events


def common_loss_days(dias, *, aberto: bool) -> list:
    """perda na rede comum: `dias` = [(day start, day end, DiaBalanco)] in order (see
    faturamento.selectors.balanco_diario). Fires at the end of a day whose common part
    (main meter − Σ units) exceeds the account's limit; clears at the end of a day back
    under it. A day without main-meter data changes nothing."""
    events = []
    for start, end, dia in dias:
        if dia.perda_pct is None:
            continue
        if not aberto and dia.acima_limite:
            events.append(Fire(start, end, dia.perda_pct))
            aberto = True
        elif aberto and not dia.acima_limite:
            events.append(Clear(end, dia.perda_pct))
            aberto = False
    return events


def counter_backwards(regra, steps) -> list:
    """anomalia (contador): a cumulative register stepping back to a value above the
    reset tolerance (a reset to about zero is normal; 1000 -> 900 is not)."""
    tol = regra.tolerancia_reset or Decimal(0)
    return [
        Fire(s.time, s.time, s.valor)
        for s in steps
        if s.anterior is not None and s.valor < s.anterior and s.valor > tol
    ]


def hour_start(t: datetime) -> datetime:
    """The start of the local hour of `t`."""
    return t.astimezone(zone()).replace(minute=0, second=0, microsecond=0)


def event_value(v) -> Decimal | None:
    """An event's value as an alarm stores and a page shows it: an hourly rate (a float,
    rate_samples) rounded to 4 places, the readings' own precision."""
    if v is None or isinstance(v, Decimal):
        return v
    return Decimal(str(round(v, 4)))


def night_window(regra, night: date) -> tuple[datetime, datetime]:
    """The leak window that ends on local date `night` (starts the day before when it
    crosses midnight), as aware datetimes."""
    z = zone()
    end = datetime.combine(night, regra.janela_fim, tzinfo=z)
    start_day = night if regra.janela_inicio < regra.janela_fim else night - timedelta(days=1)
    return datetime.combine(start_day, regra.janela_inicio, tzinfo=z), end


def window_hours(start: datetime, end: datetime) -> list[datetime]:
    """Local hour starts in [start, end) (a DST change gives 23 or 25 hours a day)."""
    hours, t = [], start.astimezone(zone())
    while t < end:
        hours.append(t)
        t = (t.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(zone())
    return hours


@dataclass
class LeakState:
    aberto: bool = False
    noites_ok: int = 0


def leak_nights(regra, nights, state: LeakState) -> list:
    """vazamento: `nights` = [(window start, window end, {hour start: consumo})] in order.
    A night leaks when every hour of the window consumed more than vazao_minima; it
    fires at the window's end and clears after noites_para_encerrar nights without."""
    events = []
    minimo = regra.vazao_minima or Decimal(0)
    for start, end, hourly in nights:
        hours = window_hours(start, end)
        values = [hourly.get(h) for h in hours]
        leaking = bool(values) and all(v is not None and v > minimo for v in values)
        if leaking:
            state.noites_ok = 0
            if not state.aberto:
                events.append(Fire(start, end, min(values)))
                state.aberto = True
        elif state.aberto:
            state.noites_ok += 1
            if state.noites_ok >= regra.noites_para_encerrar:
                events.append(Clear(end, None))
                state.aberto, state.noites_ok = False, 0
    return events


def median_spikes(regra, daily: dict, days, *, aberto: bool) -> list:
    """anomalia (mediana): a local day's consumption above k × the median of the
    device's previous 28 days (days with data; at least 7 of them). `daily` = {day start:
    consumo}; `days` = the day starts to judge, in order. Clears after a day back under."""
    k = regra.fator_mediana
    ordered = sorted(daily)
    events = []
    for day in days:
        consumo = daily.get(day)
        if consumo is None:
            continue
        history = [daily[d] for d in ordered if day - timedelta(days=29) < d < day]
        history = [v for v in history if v is not None]
        if len(history) < 7:
            continue
        mediana = Decimal(statistics.median(history))
        spike = consumo > k * mediana and consumo > 0
        end = day_end(day)
        if spike and not aberto:
            events.append(Fire(day, end, consumo))
            aberto = True
        elif aberto and not spike:
            events.append(Clear(end, consumo))
            aberto = False
    return events


def gap_events(gaps, *, last: datetime | None, now: datetime, limit: timedelta) -> list:
    """sem_dados over history: each silence (before, after) longer than `limit` fires at
    before + limit and clears at the next reading; a silence still running at `now` too."""
    events = []
    for before, after in gaps:
        events += [Fire(before, before + limit, None), Clear(after, None)]
    if last is not None and now - last > limit:
        events.append(Fire(last, last + limit, None))
    return events

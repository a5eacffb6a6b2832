"""Prévia: what a rule would have fired over the last 30 days of stored readings.

The stored data goes through the same functions (alarmes.logic) as the live engine and
the window jobs, one pass per device, starting with nothing open. Nothing is written.
"""

import heapq
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from dispositivos.models import Dispositivo, Gateway
from telemetria.storage import (
    DAY,
    HOUR,
    backward_steps,
    consumption_by_period,
    reading_gaps,
    threshold_samples,
)

from . import logic
from .engine import rule_devices
from .models import Grandeza, ModoAnomalia, Periodo, TipoRegra

PREVIEW_DAYS = 30
MAX_LISTED = 200


@dataclass
class PreviewAlarm:
    dispositivo_codigo: str
    gateway_id: int
    dispositivo: str  # "GW-01 · D01": a code is unique only within its gateway
    inicio: datetime
    disparo: datetime
    fim: datetime | None
    valor: Decimal | None
    valor_texto: str = ""  # "9,12 kWh/h": the device's unit and precision (value_text)


@dataclass
class Preview:
    alarms: list[PreviewAlarm]
    total: int
    devices: int
    seconds: float
    start: datetime
    end: datetime
    unavailable: str = ""
    # Alarms per device ("GW-01 · D01"), all of them, not only the MAX_LISTED shown.
    by_device: dict[str, int] = field(default_factory=dict)


def _pairs(events) -> list[tuple]:
    """Fire/Clear events -> (inicio, disparo, fim, valor) per alarm."""
    out, current = [], None
    for ev in events:
        if isinstance(ev, logic.Fire):
            current = [ev.inicio, ev.em, None, ev.valor]
            out.append(current)
        elif current is not None:
            current[2] = ev.em
            current = None
    return [tuple(p) for p in out]


def regra_preview(*, regra, exclusoes=(), now: datetime | None = None) -> Preview:
    """Runs an unsaved (or saved) rule over the last PREVIEW_DAYS days."""
    t0 = time.monotonic()
    end = now or timezone.now()
    start = end - timedelta(days=PREVIEW_DAYS)
    if regra.tipo == TipoRegra.GATEWAY_OFFLINE:
        return Preview(
            [], 0, 0, 0.0, start, end, _("O histórico de status dos gateways não é guardado.")
        )
    if regra.tipo == TipoRegra.PERDA_REDE:
        return Preview(
            [],
            0,
            0,
            0.0,
            start,
            end,
            _(
                "A prévia não cobre a perda na rede comum: cada dia é julgado pelo balanço"
                " do faturamento (medidor principal menos as unidades), veja o balanço"
                " diário em Faturamento."
            ),
        )
    excluded = {d.pk for d in exclusoes}
    devices = [d for d in _devices(regra) if d.id not in excluded]
    ids = [d.id for d in devices]
    found: list[tuple] = []
    if ids:
        per_device = _events(regra, ids, devices, start, end)
        for dev_id, events in per_device.items():
            found += [(p[1], dev_id, p) for p in _pairs(events)]
    total = len(found)
    # Only the last MAX_LISTED are shown: a rule that flips often has tens of thousands.
    last = heapq.nlargest(MAX_LISTED, found, key=lambda f: (f[0], f[1]))
    by_id = {d.id: d for d in devices}
    with scopes_disabled():
        gateways = dict(
            Gateway.objects.filter(
                conta_id=regra.conta_id, pk__in={d.gateway_id for d in devices}
            ).values_list("pk", "codigo")
        )
        units = {
            pk: (unidade, fator)
            for pk, unidade, fator in Dispositivo.objects.filter(
                pk__in={dev_id for _d, dev_id, _p in last}
            ).values_list("pk", "unidade", "fator_conversao")
        }
    label = {d.id: f"{gateways.get(d.gateway_id, '?')} · {d.codigo}" for d in devices}
    per_hour = regra.tipo == TipoRegra.VAZAMENTO or (
        regra.tipo == TipoRegra.LIMITE and regra.grandeza == Grandeza.TAXA
    )
    listed = [
        PreviewAlarm(
            by_id[dev_id].codigo,
            by_id[dev_id].gateway_id,
            label[dev_id],
            *p[:3],
            logic.event_value(p[3]),
            value_text(p[3], *units.get(dev_id, ("", None)), per_hour=per_hour),
        )
        for _disparo, dev_id, p in reversed(last)
    ]
    return Preview(
        alarms=listed,
        total=total,
        devices=len(ids),
        seconds=time.monotonic() - t0,
        start=start,
        end=end,
        by_device=dict(sorted(Counter(label[dev_id] for _d, dev_id, _p in found).items())),
    )


def value_text(value, unidade: str, fator, *, per_hour: bool) -> str:
    """An alarm's value as the Prévia lists it: with the device's unit ("/h" for an hourly
    rate or a leak's minimum hourly consumption) and the precision the meter measures (the
    decimal places of its fator_conversao, telemetria's `medida`). A rate (a float from
    two readings) is rounded to those places, at least one."""
    from telemetria.templatetags.telemetria_tags import _places, medida

    if value is None:
        return ""
    if isinstance(value, float) and fator is not None:
        value = round(Decimal(str(value)), max(1, min(4, _places(Decimal(str(fator))))))
    shown = medida(value, _Fator(fator)) if fator is not None else medida(value, None)
    unit = f"{unidade}/h" if per_hour and unidade else unidade
    return f"{shown} {unit}".strip()


@dataclass
class _Fator:
    fator_conversao: Decimal


def _devices(regra):
    # rule_devices takes saved rules by id; an unsaved rule gets a temporary key.
    key = regra.pk or 0
    regra_pk = regra.pk
    regra.pk = key
    try:
        return rule_devices([regra], regra.conta_id)[key]
    finally:
        regra.pk = regra_pk


def _events(regra, ids, devices, start, end) -> dict[int, list]:
    conta_id = regra.conta_id
    tipo = regra.tipo
    out: dict[int, list] = {}
    if tipo == TipoRegra.LIMITE:
        samples = threshold_samples(
            conta_id=conta_id,
            dispositivo_ids=ids,
            start=start,
            end=end,
            upper=regra.limite_superior,
            lower=regra.limite_inferior,
            band=regra.histerese,
            duration=timedelta(minutes=regra.duracao_minutos or 0),
            rate=regra.grandeza == Grandeza.TAXA,
        )
        for dev_id, xs in samples.items():
            out[dev_id] = logic.limit_samples(regra, xs, logic.LimitState())
        return out
    if tipo == TipoRegra.ANOMALIA and regra.modo_anomalia == ModoAnomalia.CONTADOR:
        found = backward_steps(
            conta_id=conta_id,
            dispositivo_ids=ids,
            start=start,
            end=end,
            above=regra.tolerancia_reset or Decimal(0),
        )
        for dev_id, steps in found.items():
            out[dev_id] = logic.counter_backwards(regra, steps)
        return out
    if tipo == TipoRegra.CONSUMO:
        hourly = regra.periodo == Periodo.HORA
        first = logic.day_start(start) if not hourly else start
        per = defaultdict(list)
        for p in consumption_by_period(
            conta_id=conta_id,
            dispositivo_ids=ids,
            start=first,
            end=end,
            period=HOUR if hourly else DAY,
        ):
            length = timedelta(hours=1) if hourly else None
            bucket_end = (
                p.bucket + length if hourly else logic.day_start(p.bucket + timedelta(hours=36))
            )
            per[p.dispositivo_id].append((p.bucket, bucket_end, p.consumo))
        for dev_id, periods in per.items():
            out[dev_id] = logic.period_consumption(
                regra, periods, aberto=False, complete_before=end
            )
        return out
    if tipo == TipoRegra.VAZAMENTO:
        nights = []
        day = start.astimezone(logic.zone()).date() + timedelta(days=1)
        while True:
            w_start, w_end = logic.night_window(regra, day)
            if w_end > end:
                break
            nights.append((w_start, w_end))
            day += timedelta(days=1)
        hourly = defaultdict(dict)
        for p in consumption_by_period(
            conta_id=conta_id,
            dispositivo_ids=ids,
            start=start,
            end=end,
            period=HOUR,
            windows=nights,  # only the night hours' readings (the window jobs' reads)
        ):
            hourly[p.dispositivo_id][p.bucket] = p.consumo
        for dev_id in ids:
            h = hourly.get(dev_id, {})
            out[dev_id] = logic.leak_nights(
                regra, [(a, b, h) for a, b in nights], logic.LeakState()
            )
        return out
    if tipo == TipoRegra.ANOMALIA:  # mediana
        daily = defaultdict(dict)
        for p in consumption_by_period(
            conta_id=conta_id,
            dispositivo_ids=ids,
            start=logic.day_start(start - timedelta(days=29)),
            end=logic.day_start(end),
            period=DAY,
        ):
            daily[p.dispositivo_id][p.bucket] = p.consumo
        for dev_id, values in daily.items():
            days = sorted(d for d in values if d >= logic.day_start(start))
            out[dev_id] = logic.median_spikes(regra, values, days, aberto=False)
        return out
    if tipo == TipoRegra.SEM_DADOS:
        from dispositivos.models import Gateway

        by_gw = {d.id: d.gateway_id for d in devices}
        intervals = dict(
            Gateway.objects.filter(pk__in=set(by_gw.values())).values_list(
                "pk", "intervalo_envio_segundos"
            )
        )
        limits = {
            dev_id: timedelta(seconds=intervals[by_gw[dev_id]] * regra.intervalos) for dev_id in ids
        }
        found = reading_gaps(
            conta_id=conta_id, dispositivo_ids=ids, start=start, end=end, longer_than=limits
        )
        for dev_id, g in found.items():
            out[dev_id] = logic.gap_events(g["gaps"], last=g["last"], now=end, limit=limits[dev_id])
    return out

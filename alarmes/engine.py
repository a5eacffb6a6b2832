"""Rule evaluation: on committed readings (the ingest consumer calls
`evaluate_committed_readings` after each commit) and at the end of windows (jobs).

Reading-driven kinds (limite, consumo por hora, anomalia de contador) are evaluated per
batch and account: the account's rule set is cached in the process and dropped when its
version (alarmes.events.rules_changed) moves; a batch whose devices have no rule costs
one Redis round trip and a few dict look-ups. State is read for the whole batch in a
handful of set-based queries, and only changes are written.

Readings at or before a (rule, device)'s watermark (the start of its open alarm, or the
end of its last closed one) are ignored, so a late or redelivered reading never opens a
second alarm; the partial unique index settles any race between evaluators.
"""

import logging
import operator
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import repeat
from typing import NamedTuple

from django.db import InterfaceError, OperationalError, connection
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from dispositivos.models import Dispositivo, Gateway, TipoMedidor
from telemetria import storage
from telemetria.storage import (
    HOUR,
    consumption_by_period,
    device_steps,
    last_reading_times,
    previous_from_recent,
    previous_from_rows,
    previous_readings,
    previous_readings_query,
    recent_readings_query,
)
from telemetria.storage.steps import array_literal

from . import logic, services
from .events import rules_versions
from .models import (
    OPEN_STATES,
    Alarme,
    EstadoAlarme,
    EstadoRegra,
    Grandeza,
    ModoAnomalia,
    Periodo,
    RegraAlarme,
    TipoRegra,
)
from .validation import LEAK_TYPES

log = logging.getLogger(__name__)

RELOAD_SECONDS = 30.0  # a rule set is reloaded at least this often, whatever Redis says


class Device(NamedTuple):
    id: int
    gateway_id: int
    tipo: str
    tipo_medidor: str
    codigo: str
    modulus: Decimal | None  # the register's wrap value (storage.sql.register_modulus)


def is_reading_driven(regra) -> bool:
    return (
        regra.tipo == TipoRegra.LIMITE
        or (regra.tipo == TipoRegra.CONSUMO and regra.periodo == Periodo.HORA)
        or (regra.tipo == TipoRegra.ANOMALIA and regra.modo_anomalia == ModoAnomalia.CONTADOR)
    )


def rule_devices(regras, conta_id: int) -> dict[int, list[Device]]:
    """{rule id: the active devices it applies to}: its device, its gateway's devices or
    the account's devices of its type, minus exclusions and devices the kind cannot
    judge (a rate or a consumption needs a consumption meter; a leak water or gas)."""
    regras = list(regras)
    if not regras:
        return {}
    with scopes_disabled():
        devices = [
            Device(*row, None if maximo is None else (maximo + 1) * fator)
            for *row, maximo, fator in Dispositivo.objects.filter(
                conta_id=conta_id, is_active=True, gateway__is_active=True
            ).values_list(
                "id",
                "gateway_id",
                "tipo",
                "tipo_medidor",
                "codigo",
                "registro_maximo",
                "fator_conversao",
            )
        ]
        excluded = defaultdict(set)
        for regra_id, disp_id in RegraAlarme.exclusoes.through.objects.filter(
            regraalarme_id__in=[r.pk for r in regras]
        ).values_list("regraalarme_id", "dispositivo_id"):
            excluded[regra_id].add(disp_id)
    by_id = {d.id: d for d in devices}
    by_gateway, by_tipo = defaultdict(list), defaultdict(list)
    for d in devices:
        by_gateway[d.gateway_id].append(d)
        by_tipo[d.tipo].append(d)
    out = {}
    for r in regras:
        if r.dispositivo_id:
            chosen = [by_id[r.dispositivo_id]] if r.dispositivo_id in by_id else []
        elif r.gateway_id:
            chosen = by_gateway[r.gateway_id]
        else:
            chosen = by_tipo[r.tipo_dispositivo]
        needs_consumption = r.tipo in (
            TipoRegra.CONSUMO,
            TipoRegra.VAZAMENTO,
            TipoRegra.ANOMALIA,
        ) or (r.tipo == TipoRegra.LIMITE and r.grandeza == Grandeza.TAXA)
        out[r.pk] = [
            d
            for d in chosen
            if d.id not in excluded[r.pk]
            and not (needs_consumption and d.tipo_medidor == TipoMedidor.INSTANTANEO)
            and not (r.tipo == TipoRegra.VAZAMENTO and d.tipo not in LEAK_TYPES)
            and not (
                r.tipo == TipoRegra.ANOMALIA
                and r.modo_anomalia == ModoAnomalia.CONTADOR
                and d.tipo_medidor != TipoMedidor.ACUMULADO
            )
        ]
    return out


class DevicePlan(NamedTuple):
    """What a device's rules need to know of a batch, folded once per rule set: a batch
    is quiet for all of them (nothing can fire, no alarm or pending state to carry on)
    when its values stay within [val_lo, val_hi], its hourly rates within [rate_lo,
    rate_hi], no cumulative step goes backwards and its hour so far stays at or under
    hour_limit (the tightest bounds of its rules; None: no such bound)."""

    kind: str  # tipo_medidor
    needs_steps: bool  # a rate, counter or hourly-consumption rule
    val_hi: Decimal | None
    val_lo: Decimal | None
    rate_hi: Decimal | None
    rate_lo: Decimal | None
    anomaly: bool
    hour: bool  # consumo rules per hour
    hour_limit: Decimal | None  # None with hour: a rule without a limit (never settled)


def _bounds(regras) -> tuple[Decimal | None, Decimal | None]:
    sups = [r.limite_superior for r in regras if r.limite_superior is not None]
    infs = [r.limite_inferior for r in regras if r.limite_inferior is not None]
    return (min(sups) if sups else None, max(infs) if infs else None)


def device_plan(device: Device, regras) -> DevicePlan:
    limits = [r for r in regras if r.tipo == TipoRegra.LIMITE]
    rates = [r for r in limits if r.grandeza == Grandeza.TAXA]
    values = [r for r in limits if r.grandeza != Grandeza.TAXA]
    anomaly = any(r.tipo == TipoRegra.ANOMALIA for r in regras)
    hours = [r for r in regras if r.tipo == TipoRegra.CONSUMO]
    hour_limit = (
        None
        if not hours or any(r.limite_superior is None for r in hours)
        else min(r.limite_superior for r in hours)
    )
    return DevicePlan(
        device.tipo_medidor,
        bool(rates or anomaly or hours),
        *_bounds(values),
        *_bounds(rates),
        anomaly,
        bool(hours),
        hour_limit,
    )


@dataclass
class RuleSet:
    """An account's active reading-driven rules, by device."""

    version: bytes | None
    loaded_at: float
    by_device: dict[int, list] = field(default_factory=dict)
    devices: dict[int, Device] = field(default_factory=dict)
    plans: dict[int, DevicePlan] = field(default_factory=dict)
    # each device's latest reading this process saw committed: where the probe for the
    # reading before a batch may start (storage.previous_readings_query's `stored`); kept
    # with the rule set, so a device deleted or moved (a reload) leaves nothing behind
    seen: dict[int, datetime] = field(default_factory=dict)
    account_devices: int = 0  # the account's active devices, rules or not


_WINDOW_KINDS = [TipoRegra.VAZAMENTO, TipoRegra.SEM_DADOS, TipoRegra.GATEWAY_OFFLINE]


def load_rule_set(conta_id: int, version=None) -> RuleSet:
    with scopes_disabled():
        regras = [
            r
            for r in RegraAlarme.objects.filter(conta_id=conta_id, ativo=True).exclude(
                tipo__in=_WINDOW_KINDS
            )
            if is_reading_driven(r)
        ]
    rs = RuleSet(version=version, loaded_at=time.monotonic())
    with scopes_disabled():
        rs.account_devices = Dispositivo.objects.filter(conta_id=conta_id, is_active=True).count()
    targets = rule_devices(regras, conta_id)  # two queries for all the rules
    for r in regras:
        for d in targets[r.pk]:
            rs.by_device.setdefault(d.id, []).append(r)
            rs.devices[d.id] = d
    rs.plans = {d: device_plan(rs.devices[d], regras) for d, regras in rs.by_device.items()}
    return rs


class HourSoFar(NamedTuple):
    """A device's consumption in one local hour through its reading at `last_time` (the
    last one the engine counted), for `consumo` rules per hour."""

    hour: datetime
    last_time: datetime
    last_valor: Decimal
    consumo: Decimal


class RuleCache:
    """Per-process cache of the accounts' rule sets (the consumer keeps one), and of each
    device's consumption so far in its current hour (HourSoFar)."""

    def __init__(self):
        self._sets: dict[int, RuleSet] = {}
        self.hours: dict[int, HourSoFar] = {}

    def get_many(self, conta_ids: list[int]) -> dict[int, RuleSet]:
        try:
            versions = rules_versions(conta_ids)
        except Exception:  # Redis down: fall back on the reload period
            log.warning("event=alarm_rules_version_unavailable", exc_info=True)
            versions = {c: (self._sets[c].version if c in self._sets else None) for c in conta_ids}
        now = time.monotonic()
        out = {}
        for c in conta_ids:
            rs = self._sets.get(c)
            if rs is None or rs.version != versions[c] or now - rs.loaded_at > RELOAD_SECONDS:
                rs = self._sets[c] = load_rule_set(c, versions[c])
            out[c] = rs
        return out


_cache = RuleCache()


def warm_up() -> None:
    """The consumer's start: every account's rule set loaded before the first batch (1,000
    rules took ~80 ms, inside the first batch's latency)."""
    with scopes_disabled():
        conta_ids = list(
            RegraAlarme.objects.filter(ativo=True)
            .exclude(tipo__in=_WINDOW_KINDS)
            .order_by()  # the model's ordering would make DISTINCT keep one row per rule
            .values_list("conta_id", flat=True)
            .distinct()
        )
    started = time.monotonic()
    sets = _cache.get_many(conta_ids) if conta_ids else {}
    log.info(
        "event=alarm_rules_loaded contas=%d devices=%d seconds=%.3f",
        len(sets),
        sum(len(rs.by_device) for rs in sets.values()),
        time.monotonic() - started,
    )


def _fmt(value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    # 10.0000 -> 10, 2.5000 -> 2,5 (normalize() alone would write 1E+2 for 100)
    value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return number_format(value, decimal_pos=None, use_l10n=True)


def message(regra, valor) -> str:
    v = _fmt(valor)
    if regra.tipo == TipoRegra.LIMITE:
        what = _("Taxa por hora") if regra.grandeza == Grandeza.TAXA else _("Valor")
        if regra.limite_superior is not None and (valor is None or valor > regra.limite_superior):
            return _("%(what)s %(v)s acima do limite %(lim)s") % {
                "what": what,
                "v": v,
                "lim": _fmt(regra.limite_superior),
            }
        return _("%(what)s %(v)s abaixo do limite %(lim)s") % {
            "what": what,
            "v": v,
            "lim": _fmt(regra.limite_inferior),
        }
    if regra.tipo == TipoRegra.CONSUMO:
        return _("Consumo %(v)s no período acima de %(lim)s") % {
            "v": v,
            "lim": _fmt(regra.limite_superior),
        }
    if regra.tipo == TipoRegra.VAZAMENTO:
        return _("Fluxo contínuo na janela noturna (mínimo por hora: %(v)s)") % {"v": v}
    if regra.tipo == TipoRegra.SEM_DADOS:
        return _("Sem leituras há %(n)s intervalos de envio") % {"n": regra.intervalos}
    if regra.tipo == TipoRegra.GATEWAY_OFFLINE:
        return _("Gateway offline")
    if regra.tipo == TipoRegra.PERDA_REDE:
        return _("Perda na rede comum de %(v)s%% no dia, acima do limite da conta") % {"v": v}
    if regra.modo_anomalia == ModoAnomalia.CONTADOR:
        return _("Contador voltou para %(v)s (adulteração ou troca de medidor?)") % {"v": v}
    return _("Consumo do dia %(v)s acima de %(k)s × a mediana de 28 dias") % {
        "v": v,
        "k": _fmt(regra.fator_mediana),
    }


def apply_events(regra, device: Device, events, open_alarm, *, live=False) -> Alarme | None:
    """Fire and clear through the services; returns the alarm left open (or None).
    `live`: the reading-driven evaluation, which never reopens a condition another
    evaluator already fired and cleared (services.alarm_fire not_if_closed_since)."""
    for ev in events:
        ev = ev._replace(valor=logic.event_value(ev.valor))
        if isinstance(ev, logic.Fire):
            fired = services.alarm_fire(
                regra=regra,
                gateway_id=device.gateway_id,
                dispositivo_id=device.id,
                inicio=ev.inicio,
                valor=ev.valor,
                mensagem=message(regra, ev.valor),
                em=ev.em,
                not_if_closed_since=live,
            )
            open_alarm = fired or open_alarm or _open_alarm(regra, device.id)
        elif open_alarm is not None:
            services.alarm_clear(alarme=open_alarm, em=ev.em, valor=ev.valor)
            open_alarm = None
    return open_alarm


def _open_alarm(regra, dispositivo_id):
    return Alarme.objects.filter(
        regra=regra, dispositivo_id=dispositivo_id, estado__in=OPEN_STATES
    ).first()


# --- reading-driven ----------------------------------------------------------------


def on_committed_batch(committed) -> None:
    """The consumer's post-commit hook (ingestao.pipeline.register_committed_hook)."""
    second = operator.itemgetter(1)  # (registry entry, ReadingRow) -> the row
    _evaluate_by_conta({c: map(second, pairs) for c, pairs in committed.readings.items()})


def evaluate_committed_readings(rows, *, cache: RuleCache | None = None) -> int:
    """Evaluate the reading-driven rules on committed ReadingRows; returns the number of
    alarm transitions. Never raises for a rule problem (logged): ingest is not judged by
    its alarms. A database error (connection lost, deadlock...) is raised: the consumer
    runs the hook again before acking the batch (ingestao.pipeline), which is safe since
    readings at or before a pair's watermark are ignored."""
    by_conta = defaultdict(list)
    for row in rows:
        by_conta[row.conta_id].append(row)
    return _evaluate_by_conta(by_conta, cache)


def _evaluate_by_conta(by_conta: dict, cache: RuleCache | None = None) -> int:
    """evaluate_committed_readings for rows already grouped {conta id: ReadingRows}
    (the consumer's Committed batch holds them so)."""
    if not by_conta:
        return 0
    cache = cache or _cache
    sets = cache.get_many(list(by_conta))
    n = 0
    with scopes_disabled():
        for conta_id, conta_rows in by_conta.items():
            rs = sets[conta_id]
            if not rs.by_device:
                continue
            per_dev = _samples_by_device(conta_rows, rs.by_device)
            if per_dev:
                n += _evaluate_conta(conta_id, rs, per_dev, cache.hours)
    return n


def _samples_by_device(rows, by_device) -> dict[int, list]:
    """{device: [(time, valor)] in time order} of the rows whose device has rules (one
    pass over the batch: the part of the evaluation that grows with every reading)."""
    per_dev = defaultdict(list)
    for t, _conta, _gateway, d, v, _unidade, _raw in rows:
        per_dev[d].append((t, v))
    out = {}
    for d, samples in per_dev.items():
        if d in by_device:
            samples.sort()
            out[d] = samples
    return out


_PAIR_STATE = """
    SELECT regra_id, dispositivo_id,
           max(id) FILTER (WHERE estado IN ('ativo', 'reconhecido')),
           max(inicio) FILTER (WHERE estado IN ('ativo', 'reconhecido')),
           max(fim) FILTER (WHERE estado = 'encerrado'),
           NULL
    FROM tds_new_alarme
    WHERE conta_id = %(conta)s AND dispositivo_id = ANY(%(devs)s::bigint[])
      AND regra_id IS NOT NULL
    GROUP BY 1, 2
    UNION ALL
    SELECT regra_id, dispositivo_id, NULL, NULL, NULL, pendente_desde
    FROM tds_new_regra_alarme_estado
    WHERE conta_id = %(conta)s AND dispositivo_id = ANY(%(devs)s::bigint[])
      AND pendente_desde IS NOT NULL"""


LOOKBACK = timedelta(hours=6)  # storage.previous_readings_query's: how far back a probe looks
RECENT_SPAN = timedelta(minutes=15)  # the widest range of an account's readings read whole


def _recent_window(firsts: dict, stored: dict, account_devices: int):
    """[start, end) of the account's readings that holds the reading before the batch
    for most of its devices (storage.recent_readings_query), or None when a probe per
    device is cheaper: from the last reading this process saw of nine devices in ten
    (`stored`) to the batch's last first reading, at most RECENT_SPAN; only when the
    batch's devices are a good part of the account's (the range reads them all)."""
    if len(firsts) < 50 or 4 * len(firsts) < account_devices:
        return None
    known = sorted(t for d, first in firsts.items() if (t := stored.get(d)) and t < first)
    if len(known) < len(firsts) // 2:
        return None
    end = max(firsts.values())
    return max(known[len(known) // 10], end - RECENT_SPAN), end


def _pair_states(conta_id, dev_ids, firsts=None, stored=None, account_devices=0):
    """One round trip (arrays as literals, not IN lists: the ORM took ~40 ms per query to
    build an IN of 1,000 ids, psycopg ~1 ms to dump a list): per (rule, device) the open
    alarm, the end of the last closed one and the pending start of a condition within its
    duration; with `firsts` ({device: its first reading in the batch}), in the same round
    trip, each one's reading before it: from the account's recent readings
    (_recent_window), else by a probe per device (storage.previous_readings_query, which
    `stored` narrows); a device the recent readings do not answer is probed after."""
    opened, closed, pending, prev = {}, {}, {}, {}
    sql, params = _PAIR_STATE, {"conta": conta_id, "devs": array_literal(dev_ids)}
    window = _recent_window(firsts, stored or {}, account_devices) if firsts else None
    if firsts:
        probe, probe_params = (
            recent_readings_query(conta_id, *window)
            if window
            else previous_readings_query(firsts, stored=stored)
        )
        sql = f"{sql};\n{probe}"
        params.update(probe_params)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for regra_id, disp_id, open_id, open_inicio, closed_fim, pendente in cur.fetchall():
            key = (regra_id, disp_id)
            if open_id:
                opened[key] = Alarme(pk=open_id, conta_id=conta_id, inicio=open_inicio)
            if closed_fim:
                closed[key] = closed_fim
            if pendente:
                pending[key] = pendente
        if firsts:
            cur.nextset()
            rows = cur.fetchall()
            prev = previous_from_recent(rows, firsts) if window else previous_from_rows(rows)
    missing = {d: first for d, first in firsts.items() if d not in prev} if window else None
    if missing:  # looked for as far back as the probe of the whole batch would have
        lookback = LOOKBACK + (min(missing.values()) - min(firsts.values()))
        prev.update(previous_readings(missing, lookback, stored=stored))
    return opened, closed, pending, prev


_ACUMULADO, _INTERVALO = TipoMedidor.ACUMULADO.value, TipoMedidor.INTERVALO.value


def _settled(plan: DevicePlan, samples, before, hour_memo: dict, dev_id) -> bool:
    """True when the batch's readings of a device without an open or pending alarm
    cannot change any of its rules' state (DevicePlan), decided on plain lists without
    Step objects; then its hour so far (HourSoFar) is carried on here. False sends the
    device to the exact path (_evaluate_conta), which decides the same way on Steps:
    anything unusual (a backwards step, the same reading twice, an hour with no count
    kept or past a limit) goes there."""
    times, values = zip(*samples, strict=True)  # C loops (map, zip) below: per reading
    if plan.val_hi is not None and max(values) > plan.val_hi:
        return False
    if plan.val_lo is not None and min(values) < plan.val_lo:
        return False
    if not plan.needs_steps:
        return True
    if plan.kind != _ACUMULADO and plan.kind != _INTERVALO:
        return False
    if before is not None:
        times, values = (before[0], *times), (before[1], *values)
    later_t, later_v = times[1:], values[1:]
    if any(map(operator.ge, times, later_t)):
        return False  # the same reading twice
    if (plan.kind == _ACUMULADO or plan.anomaly) and any(map(operator.lt, later_v, values)):
        return False  # a backwards step: a rollover, a reset or a counter anomaly
    if (plan.rate_hi is not None or plan.rate_lo is not None) and later_t:
        gaps = list(map(operator.sub, later_t, times))
        if plan.rate_lo is not None or _rate_bound(plan.kind, values, later_v, gaps) > plan.rate_hi:
            # as logic.rate_samples: float(the step's consumption) * 3600.0 / its seconds
            if plan.kind == _ACUMULADO:
                cons = map(float, map(operator.sub, later_v, values))
            else:
                cons = map(float, later_v)
            seconds = map(timedelta.total_seconds, gaps)
            rates = list(map(operator.truediv, map(operator.mul, cons, repeat(3600.0)), seconds))
            if plan.rate_hi is not None and max(rates) > plan.rate_hi:
                return False
            if plan.rate_lo is not None and min(rates) < plan.rate_lo:
                return False
    if plan.hour:
        # as _hour_from_memory
        memo = hour_memo.get(dev_id)
        if memo is None or plan.hour_limit is None or before is None:
            return False
        if before[0] != memo.last_time or before[1] != memo.last_valor:
            return False
        # times increase (checked above) and so does hour_start: the last one's hour and
        # the first one not before it are the whole batch's
        if times[1] < memo.hour or logic.hour_start(times[-1]) != memo.hour:
            return False
        # forward steps only (checked above): the steps' sum is the last minus the first
        step_sum = values[-1] - values[0] if plan.kind == _ACUMULADO else sum(later_v)
        consumo = memo.consumo + step_sum
        if consumo > plan.hour_limit:
            return False
        hour_memo[dev_id] = HourSoFar(memo.hour, times[-1], values[-1], consumo)
    return True


def _rate_bound(kind, values, later_v, gaps) -> float:
    """An upper bound of every step's hourly rate as logic.rate_samples rounds it: the
    largest step's consumption over the shortest gap (steps only go forward here, so no
    step of a counter exceeds the last reading minus the first). Rounding is monotonic,
    so no exact rate exceeds it: under a rule's upper limit, the rates need no
    computing."""
    top = values[-1] - values[0] if kind == _ACUMULADO else max(max(later_v), 0)
    return float(top) * 3600.0 / min(gaps).total_seconds()


def _hour_from_memory(memo: HourSoFar | None, steps, rules, opened, pending, dev_id):
    """The device's consumption in its current hour through this batch, from what the
    engine counted before plus the batch's steps, or None when that is not exact or a
    rule needs the stored readings: no count kept; the batch reaches another hour; the
    reading before the batch is not the last one counted (something was stored in
    between, or the batch holds an older reading); a rule has an alarm open or pending;
    or the hour passes a limit (the query then gives the alarm its exact figures)."""
    if memo is None or not steps:
        return None
    first, last = steps[0], steps[-1]
    if logic.hour_start(first.time) != memo.hour or logic.hour_start(last.time) != memo.hour:
        return None
    if first.anterior_em != memo.last_time or first.anterior != memo.last_valor:
        return None
    if any((r.pk, dev_id) in opened or (r.pk, dev_id) in pending for r in rules):
        return None
    consumo = memo.consumo + sum((st.consumo for st in steps if st.consumo is not None), Decimal(0))
    if any(r.limite_superior is None or consumo > r.limite_superior for r in rules):
        return None
    return HourSoFar(memo.hour, last.time, last.valor, consumo)


def _evaluate_conta(conta_id: int, rs: RuleSet, per_dev, hour_memo: dict | None = None) -> int:
    """`per_dev`: _samples_by_device of the batch."""
    hour_memo = {} if hour_memo is None else hour_memo
    plans = rs.plans
    firsts = {d: s[0][0] for d, s in per_dev.items() if plans[d].needs_steps}
    opened, closed, pending, prev = _pair_states(
        conta_id, per_dev, firsts, rs.seen, rs.account_devices
    )
    seen = rs.seen
    for d, s in per_dev.items():
        last = s[-1][0]
        if d not in seen or seen[d] < last:
            seen[d] = last
    busy = {d for _r, d in opened} | {d for _r, d in pending}
    start = min(s[0][0] for s in per_dev.values())
    end = max(s[-1][0] for s in per_dev.values())
    # Most devices of a batch are settled on plain lists (_settled); the rest, per rule
    per_dev = {
        d: s
        for d, s in per_dev.items()
        if d in busy or not _settled(plans[d], s, prev.get(d), hour_memo, d)
    }
    if not per_dev:
        return 0
    step_devs = {
        d
        for d in per_dev
        for r in rs.by_device[d]
        if (r.tipo == TipoRegra.LIMITE and r.grandeza == Grandeza.TAXA)
        or r.tipo == TipoRegra.ANOMALIA
    }
    hour_rules = {d: [r for r in rs.by_device[d] if r.tipo == TipoRegra.CONSUMO] for d in per_dev}
    hour_devs = {d for d, rules in hour_rules.items() if rules}
    steps = defaultdict(list)
    for d in step_devs | hour_devs:
        device = rs.devices[d]
        steps[d] = device_steps(d, per_dev[d], prev.get(d), (device.tipo_medidor, device.modulus))
    hours = defaultdict(list)
    settled = set()  # hour devices whose consumption so far is under every limit
    for d in hour_devs:
        so_far = _hour_from_memory(hour_memo.get(d), steps[d], hour_rules[d], opened, pending, d)
        if so_far is not None:
            hour_memo[d] = so_far
            settled.add(d)
    query_devs = hour_devs - settled
    if query_devs:
        # From the hour before the batch's first reading: it may have just completed;
        # each device up to its last reading of the batch (what the count then covers).
        hour0 = logic.hour_start(start) - timedelta(hours=1)
        ends = {d: per_dev[d][-1][0] for d in query_devs}
        for p in consumption_by_period(
            conta_id=conta_id,
            dispositivo_ids=query_devs,
            start=hour0,
            end=end + timedelta(microseconds=1),
            period=HOUR,
            kinds={d: rs.devices[d].tipo_medidor for d in query_devs},
            ends=ends,
        ):
            hours[p.dispositivo_id].append(p)
        for d in query_devs:
            hour_memo.pop(d, None)
            last = steps[d][-1] if steps[d] else None
            h = hours[d][-1] if hours[d] else None
            if (
                last is not None
                and h is not None
                and h.consumo is not None
                and h.bucket == logic.hour_start(last.time)
            ):
                hour_memo[d] = HourSoFar(h.bucket, last.time, last.valor, h.consumo)
    n = 0
    for dev_id, samples in per_dev.items():
        device = rs.devices[dev_id]
        series = _DeviceSeries(samples, steps[dev_id])
        for regra in rs.by_device[dev_id]:
            key = (regra.pk, dev_id)
            open_alarm = opened.get(key)
            pendente = pending.get(key)
            if open_alarm is None and pendente is None and series.quiet(regra):
                continue  # nothing in this batch can fire it: no query, no write
            if regra.tipo == TipoRegra.CONSUMO and dev_id in settled:
                continue  # the hour so far is under every limit (_hour_from_memory)
            marks = [m for m in (closed.get(key), open_alarm and open_alarm.inicio) if m]
            mark = max(marks) if marks else None
            try:
                n += _evaluate_pair(
                    regra, device, series, hours[dev_id], open_alarm, mark, pendente, end
                )
            except (OperationalError, InterfaceError):
                raise  # transient: the whole batch is evaluated again (see the docstring)
            except Exception:
                log.exception("event=alarm_rule_failed regra=%s dispositivo=%s", regra.pk, dev_id)
    return n


class _DeviceSeries:
    """One device's readings in the batch, with what every rule on it shares computed
    once (rates, extremes): most (rule, device) pairs are settled by a comparison."""

    __slots__ = ("_rates", "_rext", "backwards", "samples", "steps", "vmax", "vmin")

    def __init__(self, samples, steps):
        self.samples, self.steps = samples, steps
        values = [v for _t, v in samples]
        self.vmin, self.vmax = min(values), max(values)
        self.backwards = any(s.anterior is not None and s.valor < s.anterior for s in steps)
        self._rates = self._rext = None

    @property
    def rates(self):
        if self._rates is None:
            self._rates = logic.rate_samples(self.steps)
            xs = [x for _t, x in self._rates]
            self._rext = (min(xs), max(xs)) if xs else None
        return self._rates

    def quiet(self, regra) -> bool:
        """True when no reading of the batch can start this rule's condition."""
        if regra.tipo == TipoRegra.LIMITE:
            if regra.grandeza == Grandeza.TAXA:
                self.rates  # noqa: B018 (computes the extremes)
                if self._rext is None:
                    return True
                lo, hi = self._rext
            else:
                lo, hi = self.vmin, self.vmax
            sup, inf = regra.limite_superior, regra.limite_inferior
            return not ((sup is not None and hi > sup) or (inf is not None and lo < inf))
        if regra.tipo == TipoRegra.ANOMALIA:
            return not self.backwards
        return False


def _after(mark, t) -> bool:
    return mark is None or t > mark


def _evaluate_pair(regra, device, series, hours, open_alarm, mark, pendente, end) -> int:
    if regra.tipo == TipoRegra.LIMITE:
        xs = series.rates if regra.grandeza == Grandeza.TAXA else series.samples
        if mark is not None:
            xs = [(t, x) for t, x in xs if t > mark]
        before = pendente
        state = logic.LimitState(aberto=open_alarm is not None, pendente=before)
        events = logic.limit_samples(regra, xs, state)
        apply_events(regra, device, events, open_alarm, live=True)
        if state.pendente != before:
            EstadoRegra.objects.update_or_create(
                regra_id=regra.pk,
                dispositivo_id=device.id,
                defaults={"conta_id": regra.conta_id, "pendente_desde": state.pendente},
            )
        return len(events)
    if regra.tipo == TipoRegra.CONSUMO:
        periods = [
            (p.bucket, p.bucket + timedelta(hours=1), p.consumo)
            for p in hours
            if _after(mark, p.bucket + timedelta(hours=1) - timedelta(microseconds=1))
        ]
        complete = logic.hour_start(end)
        events = logic.period_consumption(
            regra, periods, aberto=open_alarm is not None, complete_before=complete
        )
        apply_events(regra, device, events, open_alarm, live=True)
        return len(events)
    # anomalia de contador: fires; cleared by hand (a tamper needs a person).
    events = logic.counter_backwards(regra, [s for s in series.steps if _after(mark, s.time)])
    if open_alarm is not None:
        return 0
    apply_events(regra, device, events[:1], None, live=True)
    return min(1, len(events))


# --- window jobs -------------------------------------------------------------------


def _window_rules(tipo, **filters):
    with scopes_disabled():
        return list(
            RegraAlarme.objects.filter(ativo=True, tipo=tipo, **filters).select_related("gateway")
        )


def _states(regra, devices) -> dict[int, EstadoRegra]:
    """{device id: its EstadoRegra for `regra`}, created where missing: one query for all
    the rule's devices (the job runs every minute; a get_or_create per device was one
    query per device and minute, most of them to learn the window was judged already)."""
    ids = [d.id for d in devices]
    found = {
        e.dispositivo_id: e
        for e in EstadoRegra.objects.filter(regra_id=regra.pk, dispositivo_id__in=ids)
    }
    missing = [i for i in ids if i not in found]
    if missing:
        EstadoRegra.objects.bulk_create(
            [
                EstadoRegra(regra_id=regra.pk, dispositivo_id=i, conta_id=regra.conta_id)
                for i in missing
            ],
            ignore_conflicts=True,  # another worker created it meanwhile
        )
        found.update(
            (e.dispositivo_id, e)
            for e in EstadoRegra.objects.filter(regra_id=regra.pk, dispositivo_id__in=missing)
        )
    return found


def evaluate_gateways_offline(now: datetime | None = None) -> int:
    """gateway offline: an alarm while the gateway's status (kept by ingest and the
    offline job) says offline; cleared when it is back online."""
    n = 0
    with scopes_disabled():
        for regra in _window_rules(TipoRegra.GATEWAY_OFFLINE):
            gw = regra.gateway  # _window_rules joined it
            open_alarm = Alarme.objects.filter(
                regra=regra, gateway=gw, dispositivo__isnull=True, estado__in=OPEN_STATES
            ).first()
            if not gw.is_online and gw.is_active and open_alarm is None:
                fired = services.alarm_fire(
                    regra=regra,
                    gateway_id=gw.pk,
                    dispositivo_id=None,
                    inicio=gw.last_seen or now or timezone.now(),
                    mensagem=message(regra, None),
                )
                n += fired is not None
            elif gw.is_online and open_alarm is not None:
                services.alarm_clear(alarme=open_alarm, em=gw.last_seen or timezone.now())
                n += 1
    return n


def evaluate_no_data(now: datetime | None = None) -> int:
    """sem dados: no reading from a device for N × its gateway's reporting interval."""
    now = now or timezone.now()
    n = 0
    with scopes_disabled():
        for regra in _window_rules(TipoRegra.SEM_DADOS):
            devices = rule_devices([regra], regra.conta_id)[regra.pk]
            if not devices:
                continue
            intervals = dict(
                Gateway.objects.filter(pk__in={d.gateway_id for d in devices}).values_list(
                    "pk", "intervalo_envio_segundos"
                )
            )
            longest = max(intervals.values()) * regra.intervalos
            since = now - timedelta(seconds=longest) - timedelta(days=1)
            lastseen = last_reading_times(
                conta_id=regra.conta_id, dispositivo_ids=[d.id for d in devices], since=since
            )
            opened = _open_alarms(regra, devices)
            to_fire = []
            for d in devices:
                limit = timedelta(seconds=intervals[d.gateway_id] * regra.intervalos)
                last = lastseen.get(d.id)
                silent = last is None or now - last > limit
                open_alarm = opened.get(d.id)
                if silent and open_alarm is None:
                    to_fire.append((d, last, limit))
                elif not silent and open_alarm is not None:
                    services.alarm_clear(alarme=open_alarm, em=last)
                    n += 1
            marks = _closed_marks(regra, [d.id for d, _l, _m in to_fire]) if to_fire else {}
            for d, last, limit in to_fire:
                mark = marks.get(d.id)
                if mark is not None and (last is None or last <= mark):
                    continue  # this silence already had its alarm
                inicio = (last + limit) if last else now
                n += apply_events(regra, d, [logic.Fire(inicio, now, None)], None) is not None
    return n


def _open_alarms(regra, devices) -> dict[int, Alarme]:
    """{device id: the rule's open alarm on it}, one query for all the devices."""
    return {
        a.dispositivo_id: a
        for a in Alarme.objects.filter(
            regra=regra, dispositivo_id__in=[d.id for d in devices], estado__in=OPEN_STATES
        )
    }


def _closed_marks(regra, dev_ids) -> dict[int, datetime]:
    """{device id: the end of the rule's last closed alarm on it}, one query."""
    return dict(
        Alarme.objects.filter(
            regra=regra, dispositivo_id__in=dev_ids, estado=EstadoAlarme.ENCERRADO
        )
        .values("dispositivo_id")
        .annotate(m=Max("fim"))
        .values_list("dispositivo_id", "m")
    )


def evaluate_leaks(now: datetime | None = None) -> int:
    """vazamento: each night window that ended since the last run, once per (rule,
    device) (EstadoRegra.ultimo_em = the last window judged)."""
    now = now or timezone.now()
    n = 0
    with scopes_disabled():
        for regra in _window_rules(TipoRegra.VAZAMENTO):
            devices = rule_devices([regra], regra.conta_id)[regra.pk]
            today = now.astimezone(logic.zone()).date()
            night = today if logic.night_window(regra, today)[1] <= now else today - timedelta(1)
            start, end = logic.night_window(regra, night)
            estados = _states(regra, devices)
            todo = [
                (d, estados[d.id])
                for d in devices
                if estados[d.id].ultimo_em is None or estados[d.id].ultimo_em < end
            ]
            if not todo:
                continue
            hourly = defaultdict(dict)
            for p in consumption_by_period(
                conta_id=regra.conta_id,
                dispositivo_ids=[d.id for d, _e in todo],
                start=start,
                end=end,
                period=HOUR,
            ):
                hourly[p.dispositivo_id][p.bucket] = p.consumo
            for d, estado in todo:
                open_alarm = _open_alarm(regra, d.id)
                state = logic.LeakState(aberto=open_alarm is not None, noites_ok=estado.noites_ok)
                events = logic.leak_nights(regra, [(start, end, hourly[d.id])], state)
                apply_events(regra, d, events, open_alarm)
                estado.ultimo_em, estado.noites_ok = end, state.noites_ok
                estado.save(update_fields=["ultimo_em", "noites_ok"])
                n += len(events)
    return n


def _day_that_ended(now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the last local day that ended by `now` (23 or 25 hours at a DST
    change: the start is the midnight before the end's)."""
    day_end = logic.day_start(now)
    return logic.day_start(day_end - timedelta(hours=12)), day_end


def evaluate_days(now: datetime | None = None) -> int:
    """consumo no dia and anomalia (mediana): the local day that ended, once per (rule,
    device)."""
    now = now or timezone.now()
    day, day_end = _day_that_ended(now)
    n = 0
    with scopes_disabled():
        rules = _window_rules(TipoRegra.CONSUMO, periodo=Periodo.DIA) + _window_rules(
            TipoRegra.ANOMALIA, modo_anomalia=ModoAnomalia.MEDIANA
        )
        for regra in rules:
            devices = rule_devices([regra], regra.conta_id)[regra.pk]
            estados = _states(regra, devices)
            todo = [
                (d, estados[d.id])
                for d in devices
                if estados[d.id].ultimo_em is None or estados[d.id].ultimo_em < day_end
            ]
            if not todo:
                continue
            lookback = 29 if regra.tipo == TipoRegra.ANOMALIA else 0
            daily = defaultdict(dict)
            for p in consumption_by_period(
                conta_id=regra.conta_id,
                dispositivo_ids=[d.id for d, _e in todo],
                start=logic.day_start(day - timedelta(days=lookback)),
                end=day_end,
                period=storage.DAY,
            ):
                daily[p.dispositivo_id][p.bucket] = p.consumo
            for d, estado in todo:
                open_alarm = _open_alarm(regra, d.id)
                if regra.tipo == TipoRegra.CONSUMO:
                    c = daily[d.id].get(day)
                    events = logic.period_consumption(
                        regra,
                        [(day, day_end, c)],
                        aberto=open_alarm is not None,
                        complete_before=day_end,
                    )
                else:
                    events = logic.median_spikes(
                        regra, daily[d.id], [day], aberto=open_alarm is not None
                    )
                apply_events(regra, d, events, open_alarm)
                estado.ultimo_em = day_end
                estado.save(update_fields=["ultimo_em"])
                n += len(events)
    return n


def evaluate_common_loss(now: datetime | None = None) -> int:
    """perda na rede comum: the local day that ended, once per rule, judged by
    faturamento.selectors.balanco_diario (main meter − Σ units vs the account's limit,
    all the main meters of the rule's device's utility); the alarm is on that device."""
    from faturamento.selectors import balanco_diario

    now = now or timezone.now()
    day, day_end = _day_that_ended(now)
    n = 0
    with scopes_disabled():
        for regra in _window_rules(TipoRegra.PERDA_REDE):
            devices = rule_devices([regra], regra.conta_id)[regra.pk]
            if not devices:
                continue
            (d,) = devices
            estado = _states(regra, devices)[d.id]
            if estado.ultimo_em is not None and estado.ultimo_em >= day_end:
                continue
            dias = balanco_diario(
                conta=regra.conta, tipo=d.tipo, inicio=day.date(), fim=day_end.date()
            )
            open_alarm = _open_alarm(regra, d.id)
            events = logic.common_loss_days(
                [(day, day_end, dia) for dia in dias], aberto=open_alarm is not None
            )
            apply_events(regra, d, events, open_alarm)
            estado.ultimo_em = day_end
            estado.save(update_fields=["ultimo_em"])
            n += len(events)
    return n


def evaluate_windows(now: datetime | None = None) -> dict:
    """All window kinds; the beat job runs this every minute (each is idempotent)."""
    return {
        "gateway_offline": evaluate_gateways_offline(now),
        "sem_dados": evaluate_no_data(now),
        "vazamento": evaluate_leaks(now),
        "dia": evaluate_days(now),
        "perda_rede": evaluate_common_loss(now),
    }

"""Six months of plausible hourly history for the demo's simulated meters, so every chart
has something to show on first login: daily and weekly patterns, one leak night on a
water meter and one meter swap on an energy meter (recorded as a meter event).

Idempotent: a meter that already has a reading older than the history's second week is
left alone. A meter with readings (an earlier `make run`) gets its history ending just
before its first stored reading and below it, so the register never steps back.
"""

import datetime as dt
import math
import random
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone
from django_scopes import scopes_disabled

from dispositivos.models import Dispositivo, TipoMedidor

from . import storage
from .storage.backend import current

DAYS = 182
# Both within the last 30 days, the window of an alarm rule's Prévia (alarmes.preview), so
# a new user trying a "Vazamento" rule on the demo sees the leak night it is meant to find.
LEAK_DAYS_AGO = 12  # the night a toilet valve stuck open on GW-DEMO-01's water meter
SWAP_DAYS_AGO = 20  # GW-DEMO-02's energy meter replaced by a new one (starts near zero)
START = {"ENERGIA": 1000.0, "AGUA": 100.0, "GAS": 50.0}


class Seeded(NamedTuple):
    meters: int
    readings: int


def hourly_consumption(tipo: str, local: dt.datetime, rng: random.Random) -> float:
    """Consumption of one hour for a building's utility, by local hour and weekday (the
    simulator continues the history at the same pace)."""
    h, weekend = local.hour, local.weekday() >= 5
    noise = rng.uniform(0.8, 1.2)
    if tipo == "ENERGIA":  # kWh: base load, plus the day's lights, lifts and pumps
        day = 6.0 if 7 <= h < 22 else 0.0
        return (2.0 + day * (0.7 if weekend else 1.0)) * noise
    if tipo == "AGUA":  # m³: morning and evening peaks, more at weekends
        peak = 0.3 if (6 <= h < 9 or 18 <= h < 22) else (0.08 if 9 <= h < 18 else 0.02)
        return peak * (1.2 if weekend else 1.0) * noise
    if tipo == "GAS":  # m³: cooking at lunch and dinner
        return (0.15 if (11 <= h < 13 or 18 <= h < 20) else 0.01) * noise
    return 0.0


def _temperature(local: dt.datetime, rng: random.Random) -> float:
    return 24 + 4 * math.sin((local.hour - 9) / 24 * 2 * math.pi) + rng.uniform(-0.5, 0.5)


def _series(d: Dispositivo, hours: list[dt.datetime], end_below, rng) -> list[tuple]:
    tz = timezone.get_current_timezone()
    if d.tipo_medidor != TipoMedidor.ACUMULADO:
        return [(t, _temperature(t.astimezone(tz), rng)) for t in hours]
    inc = [hourly_consumption(d.tipo, t.astimezone(tz), rng) for t in hours]
    now = hours[-1]
    leak = d.tipo == "AGUA" and d.gateway.codigo.endswith("-01")
    swap_at = None
    if d.tipo == "ENERGIA" and d.gateway.codigo.endswith("-02"):
        swap_at = now - dt.timedelta(days=SWAP_DAYS_AGO)
    for i, t in enumerate(hours):
        local = t.astimezone(tz)
        if leak and (now - t).days == LEAK_DAYS_AGO and local.hour < 5:
            inc[i] += 1.5  # m³ per hour all night
    swap_index = next((i for i, t in enumerate(hours) if swap_at and t >= swap_at), None)
    after = sum(inc[(swap_index or 0) + 1 :])
    if end_below is None:
        last_start = 0.5 if swap_index is not None else START[d.tipo] * rng.uniform(0.5, 2)
    else:  # end just below the first stored value, scaled down when it is small
        target = float(end_below) * 0.95
        if after > target * 0.9:
            scale = target * 0.9 / after
            inc = [x * scale for x in inc]
            after *= scale
        last_start = target - after
    values, value = [], START[d.tipo] * rng.uniform(0.5, 2)
    for i, t in enumerate(hours):
        if i == (swap_index if swap_index is not None else 0):
            value = last_start
        elif i:
            value += inc[i]
        values.append((t, value))
    return values


def seed_demo_history(*, conta_slug: str = "demo", now: dt.datetime | None = None) -> Seeded:
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    first = now - dt.timedelta(days=DAYS)
    hours = [first + dt.timedelta(hours=i) for i in range(DAYS * 24)]
    rng = random.Random(2026)  # noqa: S311 - simulated meter values
    with scopes_disabled():
        devices = list(
            Dispositivo.objects.filter(
                conta__slug=conta_slug, gateway__simulado=True, is_active=True
            ).select_related("gateway")
        )
    current().prepare_days(first.date(), now.date())
    meters = readings = 0
    for d in devices:
        earliest = _earliest(d)
        if earliest is not None and earliest[0] < first + dt.timedelta(days=14):
            continue  # already seeded
        mine = [t for t in hours if earliest is None or t < earliest[0]]
        if len(mine) < 2:
            continue
        points = _series(d, mine, earliest[1] if earliest else None, rng)
        rows = [
            storage.ReadingRow(
                time=t,
                conta_id=d.conta_id,
                gateway_id=d.gateway_id,
                dispositivo_id=d.pk,
                valor=Decimal(f"{v:.3f}"),
                unidade=d.unidade,
                payload_raw=None,
            )
            for t, v in points
        ]
        for i in range(0, len(rows), 5000):
            readings += storage.insert_readings(rows[i : i + 5000]).inserted
        meters += 1
    while storage.refresh_rollups().buckets:
        pass
    return Seeded(meters, readings)


def _earliest(d: Dispositivo):
    """(time, valor) of the device's first stored reading, or None."""
    from .models import LeituraDispositivo

    with scopes_disabled():
        return (
            LeituraDispositivo.objects.filter(dispositivo_id=d.pk)
            .order_by("time")
            .values_list("time", "valor")
            .first()
        )

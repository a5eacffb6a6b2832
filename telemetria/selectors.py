"""Reads of the dashboard, the JSON API and the CSV export, always for one account.

Readings come from the storage API (telemetria.storage), so nothing here writes SQL or
knows which back end is in use; the registry through dispositivos.selectors. Apps above this one (ingestao: the rejected
messages) add their counts to the dashboard's cards with `register_dashboard_count`.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from contas.models import Conta
from dispositivos.models import Dispositivo, Gateway
from dispositivos.selectors import dispositivo_list, gateway_list

from . import storage
from .periodos import Periodo


def local_day_start(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight of today in America/Sao_Paulo (settings.TIME_ZONE), as an aware instant."""
    now = timezone.localtime(now or timezone.now())
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# card name -> count(conta=..., now=...), registered from AppConfig.ready()
_dashboard_counts: dict[str, Callable[..., int]] = {}


def register_dashboard_count(*, name: str, count: Callable[..., int]) -> None:
    """Adds `cards[name] = count(conta=conta, now=now)` to the dashboard's cards (the
    template shows it). The hook by which an app above telemetria feeds the dashboard
    without telemetria importing it."""
    _dashboard_counts[name] = count


def dashboard_cards(*, conta: Conta, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    gw = Gateway.objects.filter(conta=conta).aggregate(
        online=Count("pk", filter=Q(is_online=True)),
        offline=Count("pk", filter=Q(is_online=False)),
    )
    return {
        "gateways_online": gw["online"],
        "gateways_offline": gw["offline"],
        "dispositivos": Dispositivo.objects.filter(conta=conta).count(),
        "leituras_hoje": storage.readings_count(
            conta_id=conta.pk, start=local_day_start(now), end=now + dt.timedelta(minutes=5)
        ),
        **{name: count(conta=conta, now=now) for name, count in _dashboard_counts.items()},
    }


def gateway_status_list(*, conta: Conta):
    return gateway_list(conta=conta)


def latest_readings(*, conta: Conta, limit: int = 50) -> list[dict]:
    """The account's newest readings, newest first, with gateway and device codes."""
    return [
        {
            "time": r.time,
            "gateway_id": r.gateway_id,
            "gateway_codigo": r.gateway_codigo,
            "dispositivo_id": r.dispositivo_id,
            "dispositivo_codigo": r.dispositivo_codigo,
            "dispositivo_nome": r.dispositivo_nome,
            "valor": r.valor,
            "unidade": r.unidade,
        }
        for r in storage.latest_readings_for_conta(conta_id=conta.pk, limit=limit)
    ]


def dispositivos_with_latest(
    *, conta: Conta, gateway: Gateway | None = None
) -> list[tuple[Dispositivo, dict | None]]:
    devices = list(dispositivo_list(conta=conta, gateway_id=gateway.pk if gateway else None))
    latest = storage.latest_per_device(conta_id=conta.pk, dispositivo_ids=[d.pk for d in devices])
    return [
        (
            d,
            {"time": r.time, "valor": r.valor, "unidade": r.unidade}
            if (r := latest.get(d.pk))
            else None,
        )
        for d in devices
    ]


def device_series(
    *, conta: Conta, dispositivo: Dispositivo, periodo: Periodo
) -> list[storage.SeriesPoint]:
    """Buckets of `periodo.bucket` width, oldest first."""
    return storage.readings_series_for_device(
        conta_id=conta.pk,
        dispositivo_id=dispositivo.pk,
        start=periodo.inicio,
        end=periodo.fim,
        bucket=periodo.bucket,
    )


def device_consumption_series(
    *, conta: Conta, dispositivo: Dispositivo, periodo: Periodo
) -> dict[dt.datetime, Decimal]:
    """{bucket start: consumption} in device_series' buckets, by the billable rule (the
    day and month figures' rule); {} for an instantaneous meter."""
    return storage.consumption_series_for_device(
        conta_id=conta.pk,
        dispositivo_id=dispositivo.pk,
        start=periodo.inicio,
        end=periodo.fim,
        bucket=periodo.bucket,
    )


def _last_months(n: int, now: dt.datetime) -> list[dt.date]:
    today = timezone.localtime(now).date()
    months = []
    year, month = today.year, today.month
    for _ in range(n):
        months.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def monthly_consumption(
    *,
    conta: Conta,
    meses: int = 6,
    dispositivo: Dispositivo | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Consumption per device per local month, oldest month first.

    The meter semantics (cumulative register: last − first with resets; interval
    meter: sum; instantaneous: no consumption) are the storage API's.
    """
    now = now or timezone.now()
    months = _last_months(meses, now)
    devices = [dispositivo] if dispositivo else list(dispositivo_list(conta=conta))
    rows = storage.consumption_by_month(
        conta_id=conta.pk,
        start=months[0],
        end=_next_month(months[-1]),
        dispositivo_ids=[d.pk for d in devices],
    )
    values = {(r.dispositivo_id, r.mes): r.consumo for r in rows}
    linhas = [(d, [values.get((d.pk, m)) for m in months]) for d in devices]
    return {"meses": [m.strftime("%Y-%m") for m in months], "linhas": linhas}


def readings_for_export(
    *, conta: Conta, dispositivo_ids: list[int], inicio, fim, chunk_size: int = 2000
):
    """Iterator of (time, dispositivo_id, valor, unidade), oldest first, streamed."""
    return storage.iter_readings(
        conta_id=conta.pk,
        dispositivo_ids=dispositivo_ids,
        start=inicio,
        end=fim,
        chunk_size=chunk_size,
    )


def dispositivo_overview(
    *, conta: Conta, dispositivo: Dispositivo, now: dt.datetime | None = None, dias: int = 31
) -> dict:
    """What a device's page shows: consumption per local day (the last `dias` days) and
    per month (6 months, as first days), newest first, its latest readings and its meter
    events."""
    from .models import EventoMedidor

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    days = storage.consumption_by_day(
        conta_id=conta.pk,
        start=today - dt.timedelta(days=dias - 1),
        end=today + dt.timedelta(days=1),
        dispositivo_ids=[dispositivo.pk],
    )
    monthly = monthly_consumption(conta=conta, dispositivo=dispositivo, now=now)
    return {
        "dias": [(d.dia, d) for d in reversed(days)],
        "meses": [
            (dt.date.fromisoformat(f"{mes}-01"), consumo)
            for mes, consumo in reversed(
                list(zip(monthly["meses"], monthly["linhas"][0][1], strict=True))
            )
        ],
        "ultimas": storage.latest_readings_for_conta(
            conta_id=conta.pk, dispositivo_id=dispositivo.pk, limit=20
        ),
        "eventos": list(
            EventoMedidor.objects.filter(conta=conta, dispositivo=dispositivo).order_by("-time")[
                :20
            ]
        ),
    }


# The manager's utilities: (tipo, label, unit summed, Conta price field). A device whose
# unit differs (a water meter in litres) is left out of the sum, never mixed in.
UTILITIES = (
    ("AGUA", _lazy("Água"), "m³", "preco_agua"),
    ("ENERGIA", _lazy("Energia"), "kWh", "preco_energia"),
    ("GAS", _lazy("Gás"), "m³", "preco_gas"),
)


def _pct(now_value, before):
    if not before:
        return None
    return (now_value - before) / before * 100


def utility_summary(*, conta: Conta, now: dt.datetime | None = None) -> list[dict]:
    """Per utility: consumption today and this month so far, against the same day and the
    same days of last month (day 1 up to today's day number, capped at last month's
    length), and the month's cost where the account has a price for the utility."""
    from decimal import Decimal

    from dispositivos.models import TipoMedidor

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    month_start = today.replace(day=1)
    prev_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    prev_same_day = prev_start.replace(day=min(today.day, (month_start - prev_start).days))
    devices = [
        d
        for d in dispositivo_list(conta=conta)
        if d.tipo_medidor in (TipoMedidor.ACUMULADO, TipoMedidor.INTERVALO)
    ]
    rows = storage.consumption_by_day(
        conta_id=conta.pk,
        start=prev_start,
        end=today + dt.timedelta(days=1),
        dispositivo_ids=[d.pk for d in devices],
    )
    by_device: dict[int, list] = {}
    for r in rows:
        if r.consumo is not None:
            by_device.setdefault(r.dispositivo_id, []).append((r.dia, r.consumo))
    summary = []
    for tipo, label, unit, price_field in UTILITIES:
        mine = [d for d in devices if d.tipo == tipo]
        if not mine:
            continue
        counted = [d for d in mine if d.unidade == unit]
        days = [x for d in counted for x in by_device.get(d.pk, [])]
        hoje = sum((c for day, c in days if day == today), Decimal(0))
        hoje_ant = sum((c for day, c in days if day == prev_same_day), Decimal(0))
        mes = sum((c for day, c in days if day >= month_start), Decimal(0))
        mes_ant = sum((c for day, c in days if prev_start <= day <= prev_same_day), Decimal(0))
        price = getattr(conta, price_field, None)
        summary.append(
            {
                "tipo": tipo,
                "nome": label,
                "unidade": unit,
                "medidores": len(counted),
                "fora_da_soma": len(mine) - len(counted),
                "hoje": hoje,
                "hoje_ant": hoje_ant,
                "hoje_var": _pct(hoje, hoje_ant),
                "mes": mes,
                "mes_ant": mes_ant,
                "mes_var": _pct(mes, mes_ant),
                "preco": price,
                "custo_mes": (mes * price).quantize(Decimal("0.01")) if price is not None else None,
                "custo_mes_ant": (mes_ant * price).quantize(Decimal("0.01"))
                if price is not None
                else None,
            }
        )
    return summary

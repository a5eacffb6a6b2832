"""Reads of the dashboard, the JSON API and the CSV export, always for one account.

Readings come from the storage API (telemetria.storage), so nothing here writes SQL or
knows which back end is in use; the registry through dispositivos.selectors. Apps above this one (ingestao: the rejected
messages) add their counts to the dashboard's cards with `register_dashboard_count`.
"""

import datetime as dt
from collections.abc import Callable

from django.db.models import Count, Q
from django.utils import timezone

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

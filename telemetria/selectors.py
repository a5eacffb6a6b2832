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
from tds_core import localtime

from . import storage
from .periodos import Periodo
from .templatetags.telemetria_tags import fator_places


def local_day_start(now: dt.datetime | None = None) -> dt.datetime:
    """The start of today in America/Sao_Paulo (settings.TIME_ZONE), as an aware instant."""
    return localtime.day_start(now or timezone.now())


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
        # From the day rollups, not a count of the raw readings (storage.days).
        "leituras_hoje": storage.readings_count_for_day(
            conta_id=conta.pk, day=timezone.localtime(now).date()
        ),
        **{name: count(conta=conta, now=now) for name, count in _dashboard_counts.items()},
    }


def gateway_status_list(*, conta: Conta):
    return gateway_list(conta=conta)


def dashboard_gateways(*, conta: Conta, search: str = "", limit: int = 20) -> tuple[list, int]:
    """(gateways the first screen lists, how many match): those matching `search`, or
    without one the ones needing attention first (offline, then by code); at most
    `limit`. A small account sees all of them."""
    qs = gateway_list(conta=conta, search=search, with_device_count=False)
    if not search:
        qs = qs.order_by("is_online", "codigo", "pk")
    return list(qs[:limit]), qs.count()


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
    *, conta: Conta, gateway: Gateway | None = None, dispositivos=None
) -> list[tuple[Dispositivo, dict | None]]:
    """Devices (of `gateway`, or the given `dispositivos`: a page) with their latest reading."""
    if dispositivos is not None:
        devices = list(dispositivos)
    else:
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
    dispositivos=None,
    now: dt.datetime | None = None,
) -> dict:
    """Consumption per device per local month, oldest month first: of `dispositivo`, of
    the devices `dispositivos` (a page), or of every device of the account.

    The meter semantics (cumulative register: last − first with resets; interval
    meter: sum; instantaneous: no consumption) are the storage API's.
    """
    now = now or timezone.now()
    months = _last_months(meses, now)
    if dispositivos is not None:
        devices = list(dispositivos)
    else:
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


def monthly_consumption_totals(
    *, conta: Conta, meses: int = 6, now: dt.datetime | None = None
) -> dict:
    """monthly_consumption summed per utility (tipo, unidade), oldest month first: the
    chart of an account with too many meters for one series each. From the totals the
    rollup job keeps (storage.totals: as of its last run)."""
    now = now or timezone.now()
    months = _last_months(meses, now)
    rows = storage.consumption_totals_by_month(
        conta_id=conta.pk, start=months[0], end=_next_month(months[-1])
    )
    values = {(r.tipo, r.unidade, r.mes): r.consumo for r in rows}
    keys = sorted({(r.tipo, r.unidade) for r in rows})
    return {
        "meses": [m.strftime("%Y-%m") for m in months],
        "tipos": [
            (tipo, unidade, [values.get((tipo, unidade, m)) for m in months])
            for tipo, unidade in keys
        ],
    }


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
    """Per utility: consumption today and this month so far; yesterday against the same day
    last month, and this month's whole days (up to yesterday) against the same days last
    month (capped at that month's length); the month's cost where the account has a price
    for the utility."""
    return dashboard_summary(conta=conta, now=now)["utilities"]


def _day_sums(days: list[tuple[dt.date, Decimal]]):
    """sum(first, last): the consumption of the days first..last (both included)."""

    def total(first: dt.date, last: dt.date) -> Decimal:
        return sum((c for day, c in days if first <= day <= last), Decimal(0))

    return total


def _same_days_last_month(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The days of the previous month with the numbers of first..last (both in one month),
    cut at that month's end (March 29-31 compare with February up to its last day)."""
    prev_end = first.replace(day=1) - dt.timedelta(days=1)
    return prev_end.replace(day=min(first.day, prev_end.day)), prev_end.replace(
        day=min(last.day, prev_end.day)
    )


def _cost(amount: Decimal | None, price: Decimal | None) -> Decimal | None:
    if amount is None or price is None:
        return None
    return (amount * price).quantize(Decimal("0.01"))


def dashboard_summary(*, conta: Conta, now: dt.datetime | None = None, top: int = 5) -> dict:
    """The dashboard's first screen, whatever the number of meters, from the consumption
    totals the rollup job keeps per (gateway, tipo, unidade, day) (storage.totals: as of
    its last run, TDS_ROLLUP_SECONDS apart; a few hundred rows, not one per meter):
      utilities: per utility, today and this month so far, compared on whole days only
        (yesterday against the same day last month; this month up to yesterday against
        the same days last month): today so far against a whole day last month would
        read as a fall every morning (utility_summary);
      top: per utility, the `top` gateways consuming most this month;
      mudancas: the `top` (gateway, utility) pairs whose consumption changed most from
        the day before yesterday to yesterday (whole days)."""

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    month_start = today.replace(day=1)
    prev_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    yesterday, before = today - dt.timedelta(days=1), today - dt.timedelta(days=2)
    yesterday_before = _same_days_last_month(yesterday, yesterday)[0]
    tomorrow = today + dt.timedelta(days=1)
    by_day = storage.consumption_totals(
        conta_id=conta.pk, start=min(prev_start, before, yesterday_before), end=tomorrow
    )
    # Consumption meters per utility, and the decimals its totals are shown with: its
    # finest meter's (a total of meters reading to 0,001 m³ is 93,620 m³, not 93,62 beside
    # 94,359). One index-only scan of disp_conta_consumo_idx.
    counts: dict[tuple[str, str], int] = {}
    casas: dict[tuple[str, str], int] = {}
    for tipo, unidade, fator, n in (
        Dispositivo.objects.filter(conta=conta)
        .exclude(tipo_medidor="INSTANTANEO")
        .values_list("tipo", "unidade", "fator_conversao")
        .annotate(n=Count("*"))
        .order_by()  # the model's ordering would group by every meter
    ):
        counts[(tipo, unidade)] = counts.get((tipo, unidade), 0) + n
        casas[(tipo, unidade)] = max(casas.get((tipo, unidade), 0), fator_places(fator))
    present = [
        (tipo, label, unit, price_field)
        for tipo, label, unit, price_field in UTILITIES
        if any(t == tipo for t, _u in counts)
    ]
    pairs = [(tipo, unit) for tipo, _label, unit, _p in present]
    ranked = storage.top_gateways(
        conta_id=conta.pk, month=month_start, end=tomorrow, utilities=pairs, limit=top
    )
    changed = storage.gateway_changes(conta_id=conta.pk, day=yesterday, utilities=pairs, limit=top)
    names = {
        g.pk: g
        for g in Gateway.objects.filter(
            conta=conta, pk__in={g.gateway_id for g in ranked} | {c.gateway_id for c in changed}
        )
    }
    utilities, tops = [], []
    for tipo, label, unit, price_field in present:
        mine = sum(n for (t, _u), n in counts.items() if t == tipo)
        days = [(t.dia, t.consumo) for t in by_day if t.tipo == tipo and t.unidade == unit]
        total = _day_sums(days)
        hoje, ontem = total(today, today), total(yesterday, yesterday)
        ontem_ant = total(*_same_days_last_month(yesterday, yesterday))
        mes = total(month_start, today)
        # whole days of this month (none on the 1st) against the same days last month
        completo = total(month_start, yesterday) if today.day > 1 else None
        mes_ant = (
            total(*_same_days_last_month(month_start, yesterday)) if completo is not None else None
        )
        price = getattr(conta, price_field, None)
        counted = counts.get((tipo, unit), 0)
        utilities.append(
            {
                "tipo": tipo,
                "nome": label,
                "unidade": unit,
                "casas": casas.get((tipo, unit), 0),
                "medidores": counted,
                "fora_da_soma": mine - counted,
                "hoje": hoje,
                "ontem": ontem,
                "ontem_ant": ontem_ant,
                "ontem_var": _pct(ontem, ontem_ant),
                "mes": mes,
                "mes_completo": completo,
                "mes_ant": mes_ant,
                "mes_var": _pct(completo, mes_ant) if completo is not None else None,
                "preco": price,
                "custo_mes": _cost(mes, price),
                "custo_mes_completo": _cost(completo, price),
                "custo_mes_ant": _cost(mes_ant, price),
            }
        )
        gateways = [
            {"gateway": names[g.gateway_id], "consumo": g.consumo}
            for g in ranked
            if g.tipo == tipo and g.unidade == unit and g.gateway_id in names
        ]
        if gateways:
            tops.append(
                {
                    "tipo": tipo,
                    "nome": label,
                    "unidade": unit,
                    "casas": casas.get((tipo, unit), 0),
                    "gateways": gateways,
                }
            )
    labels = {tipo: label for tipo, label, _unit, _p in UTILITIES}
    mudancas = [
        {
            "gateway": names[c.gateway_id],
            "tipo": c.tipo,
            "nome": labels[c.tipo],
            "unidade": c.unidade,
            "casas": casas.get((c.tipo, c.unidade), 0),
            "ontem": c.consumo,
            "anteontem": c.anterior,
            "delta": c.consumo - c.anterior,
            "var": _pct(c.consumo, c.anterior),
        }
        for c in changed
        if c.gateway_id in names
    ]
    return {"utilities": utilities, "top": tops, "mudancas": mudancas}

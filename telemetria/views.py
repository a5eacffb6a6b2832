"""Pages of the telemetry: the dashboard and the gateway telemetry panel."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from contas.permissions import conta_required
from dispositivos.panels import dashboard_panels, gateway_panels
from dispositivos.selectors import dispositivo_list, gateway_get

from . import selectors
from .api.serializers import dispositivo_dict, iso
from .periodos import CHOICES, DEFAULT


def _js_labels() -> dict:
    return {
        "online": _("online"),
        "offline": _("offline"),
        "media": _("média"),
        "minimo": _("mínimo"),
        "maximo": _("máximo"),
        "soma": _("soma"),
        "registrador": _("leitura do registrador"),
        "consumo": _("Consumo"),
        "total": _("Total"),
        "consumo_intervalo": _("consumo por intervalo"),
        "tipos": {
            "AGUA": _("Água"),
            "ENERGIA": _("Energia"),
            "GAS": _("Gás"),
            "TEMP": _("Temperatura"),
        },
        "sem_consumo": _("Sem medidores de consumo."),
        "erro": _("Não foi possível carregar a série."),
        "intervalo_invalido": _("Informe início e fim, com o fim depois do início."),
    }


def _urls() -> dict:
    return {
        "sse": reverse("telemetria:live_events"),
        "resumo": reverse("telemetria:api_resumo"),
        "gateways": reverse("telemetria:api_gateways"),
        "ultimas": reverse("telemetria:api_ultimas"),
        "consumo": reverse("telemetria:api_consumo"),
        "serie": reverse("telemetria:api_serie", args=[0]).replace("/0/", "/{id}/"),
        "csv": reverse("telemetria:csv_dispositivo", args=[0]).replace("/0.", "/{id}."),
        "gateway": reverse("telemetria:api_gateway", args=[0]).replace("/0/", "/{id}/"),
    }


# Gateways the first screen of a big account lists (searched, or offline first).
DASHBOARD_GATEWAYS = 20


@conta_required()
def dashboard(request):
    conta = request.conta
    cards = selectors.dashboard_cards(conta=conta)
    big = cards["dispositivos"] > settings.TDS_DASHBOARD_BIG_ACCOUNT
    busca = request.GET.get("q", "").strip()[:100]
    if big or busca:
        # Never every meter at once: the gateways searched for, or those needing attention,
        # and only their devices in the series' picker.
        gateways, gateways_total = selectors.dashboard_gateways(
            conta=conta, search=busca, limit=DASHBOARD_GATEWAYS
        )
        devices = dispositivo_list(conta=conta).filter(gateway__in=[g.pk for g in gateways])
    else:
        gateways = list(selectors.gateway_status_list(conta=conta))
        gateways_total = len(gateways)
        devices = dispositivo_list(conta=conta)
    dispositivos = [dispositivo_dict(d) for d in devices]
    urls = _urls()
    if big:
        urls["consumo"] += "?por=tipo"
    config = {
        "urls": urls,
        "labels": _js_labels(),
        "periodo": DEFAULT,
        "parcial": big or bool(busca),
        "dispositivos": dispositivos,
        "gateways": [
            {
                "id": g.pk,
                "codigo": g.codigo,
                "is_online": g.is_online,
                "last_seen": iso(g.last_seen),
            }
            for g in gateways
        ],
    }
    summary = selectors.dashboard_summary(conta=conta)
    return render(
        request,
        "telemetria/dashboard.html",
        {
            "cards": cards,
            "summary": summary,
            "utilities": summary["utilities"],
            "big": big,
            "busca": busca,
            "gateways": gateways,
            "gateways_total": gateways_total,
            "dispositivos": dispositivos,
            "latest": selectors.latest_readings(conta=conta, limit=50),
            "periodos": CHOICES,
            "periodo_inicial": DEFAULT,
            "csv_dispositivo_url": config["urls"]["csv"],
            "config": config,
            "dashboard_panels": dashboard_panels(request=request)["dashboard"],
        },
    )


def gateway_panel_context(request, gateway) -> dict:
    """Context of the panel on the registry's gateway page (dispositivos.panels)."""
    rows = selectors.dispositivos_with_latest(conta=request.conta, gateway=gateway)
    return {
        "rows": rows,
        "config": {
            "urls": _urls(),
            "labels": _js_labels(),
            "gateway": {"id": gateway.pk, "is_online": gateway.is_online},
            "dispositivos": [dispositivo_dict(d) for d, _latest in rows],
        },
    }


def dispositivo_panel_context(request, dispositivo) -> dict:
    """Context of the panel on the registry's device page (dispositivos.panels): the
    chart's configuration (tds-dispositivo.js reads the series API) and the overview."""
    return {
        "overview": selectors.dispositivo_overview(conta=request.conta, dispositivo=dispositivo),
        "periodos": CHART_PERIODS,
        "periodo_inicial": DEFAULT,
        "config": {
            "serie": reverse("telemetria:api_serie", args=[dispositivo.pk]),
            "periodo": DEFAULT,
            "dispositivo": dispositivo_dict(dispositivo),
            "labels": {
                "consumo_intervalo": _("Consumo por intervalo"),
                "registrador": _("Leitura do contador"),
                "valor": _("Valor"),
                "vazio": _("Sem leituras neste período."),
                "erro": _("Não foi possível carregar o gráfico."),
            },
        },
    }


# The device page's chart: the relative ranges of the dashboard (no custom range).
CHART_PERIODS = [(value, label) for value, label in CHOICES if value != "custom"]


@conta_required()
def gateway(request, pk):
    """The telemetry of one gateway on its own page (the same panel as the registry's)."""
    gw = gateway_get(conta=request.conta, pk=pk)
    return render(
        request,
        "telemetria/gateway.html",
        {
            "gateway": gw,
            "panel_context": gateway_panel_context(request, gw),
            "gateway_panels": {"alerts": gateway_panels(request=request, gateway=gw)["alerts"]},
        },
    )


LEITURAS_LIMIT = 100


@conta_required()
def leituras(request):
    """The account's latest raw readings on their own page, live (static/js/tds-readings.js;
    the dashboard shows a few on a phone and links here)."""
    return render(
        request,
        "telemetria/leituras.html",
        {
            "latest": selectors.latest_readings(conta=request.conta, limit=LEITURAS_LIMIT),
            "limite": LEITURAS_LIMIT,
            "config": {
                "url": f"{reverse('telemetria:api_ultimas')}?limite={LEITURAS_LIMIT}",
                "sse": reverse("telemetria:live_events"),
            },
        },
    )

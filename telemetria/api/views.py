"""JSON API views. Thin: parse parameters, call telemetria.selectors, shape the answer.

Every view runs for one account (api_view resolves it from the token or the session);
an id of another account answers 404 like a missing one.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from dispositivos.selectors import dispositivo_get, gateway_get

from .. import selectors
from ..periodos import PeriodoInvalido, bucket_label, parse_periodo
from .auth import api_view
from .serializers import dec, dispositivo_dict, gateway_dict, iso, reading_dict, series_point_dict


def _bad_request(field: str, message: str) -> JsonResponse:
    return JsonResponse({"erro": f"{field}: {message}", "campo": field}, status=400)


def _int_param(request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PeriodoInvalido(name, _("deve ser um número inteiro")) from None
    if not low <= value <= high:
        raise PeriodoInvalido(name, _("deve estar entre %(a)d e %(b)d") % {"a": low, "b": high})
    return value


def _with_param_errors(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PeriodoInvalido as exc:
            return _bad_request(exc.field, exc.message)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@api_view
def resumo(request):
    """The dashboard cards."""
    return JsonResponse(selectors.dashboard_cards(conta=request.conta))


@api_view
def gateways(request):
    """Gateways with their status."""
    items = [gateway_dict(g) for g in selectors.gateway_status_list(conta=request.conta)]
    return JsonResponse({"gateways": items})


def _dispositivo_with_latest(d, latest) -> dict:
    data = dispositivo_dict(d)
    data["ultima_leitura"] = (
        {"time": iso(latest["time"]), "valor": dec(latest["valor"]), "unidade": latest["unidade"]}
        if latest
        else None
    )
    return data


@api_view
def gateway_detail(request, pk):
    """A gateway, its status and each device's latest value."""
    gateway = gateway_get(conta=request.conta, pk=pk)
    rows = selectors.dispositivos_with_latest(conta=request.conta, gateway=gateway)
    data = gateway_dict(gateway)
    data["dispositivos"] = [_dispositivo_with_latest(d, latest) for d, latest in rows]
    return JsonResponse(data)


@api_view
def dispositivos(request):
    """Devices with their latest value."""
    rows = selectors.dispositivos_with_latest(conta=request.conta)
    return JsonResponse({"dispositivos": [_dispositivo_with_latest(d, r) for d, r in rows]})


@api_view
@_with_param_errors
def dispositivo_serie(request, pk):
    """A device's series over a range, bucketed on the server (at most ~1,000 points)."""
    dispositivo = dispositivo_get(conta=request.conta, pk=pk)
    periodo = parse_periodo(request.GET)
    pontos = selectors.device_series(conta=request.conta, dispositivo=dispositivo, periodo=periodo)
    consumo = selectors.device_consumption_series(
        conta=request.conta, dispositivo=dispositivo, periodo=periodo
    )
    return JsonResponse(
        {
            "dispositivo": dispositivo_dict(dispositivo),
            "periodo": periodo.nome,
            "inicio": iso(periodo.inicio),
            "fim": iso(periodo.fim),
            "bucket_segundos": int(periodo.bucket.total_seconds()),
            "bucket_label": bucket_label(periodo.bucket),
            "pontos": [series_point_dict(p, consumo.get(p.bucket)) for p in pontos],
        }
    )


def _consumo_response(conta, *, meses: int, dispositivo=None) -> JsonResponse:
    result = selectors.monthly_consumption(conta=conta, meses=meses, dispositivo=dispositivo)
    return JsonResponse(
        {
            "meses": result["meses"],
            "dispositivos": [
                {**dispositivo_dict(d), "consumo": [dec(v) for v in valores]}
                for d, valores in result["linhas"]
            ],
        }
    )


@api_view
@_with_param_errors
def consumo_mensal(request):
    """Monthly consumption of every device, the last `meses` months (default 6)."""
    meses = _int_param(request, "meses", default=6, low=1, high=24)
    return _consumo_response(request.conta, meses=meses)


@api_view
@_with_param_errors
def dispositivo_consumo_mensal(request, pk):
    dispositivo = dispositivo_get(conta=request.conta, pk=pk)
    meses = _int_param(request, "meses", default=6, low=1, high=24)
    return _consumo_response(request.conta, meses=meses, dispositivo=dispositivo)


@api_view
@_with_param_errors
def ultimas_leituras(request):
    """The account's latest readings, newest first (default 50, at most 500)."""
    limite = _int_param(request, "limite", default=50, low=1, high=500)
    rows = selectors.latest_readings(conta=request.conta, limit=limite)
    return JsonResponse({"leituras": [reading_dict(r) for r in rows]})

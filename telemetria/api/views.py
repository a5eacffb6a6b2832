"""JSON API views. Thin: parse parameters, call telemetria.selectors, shape the answer.

Every view runs for one account (api_view resolves it from the token or the session);
an id of another account answers 404 like a missing one.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from dispositivos.selectors import (
    dispositivo_get,
    dispositivo_list,
    gateway_device_counts,
    gateway_get,
    gateway_list,
)

from .. import selectors
from ..periodos import PeriodoInvalido, bucket_label, parse_periodo, series_summary
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


# Account-wide lists answer one page: `limite` items (default PAGE_DEFAULT, at most
# PAGE_MAX) from `cursor` (an opaque position: the `next` URL carries it). An account of
# 1,000 gateways × 8 meters answered 2 MB in 1.6 s for every device at once.
PAGE_DEFAULT, PAGE_MAX = 100, 500


def _page(request, items) -> tuple[list, dict]:
    """(the page of `items` (a queryset or list), {"next": URL or None, "total": n})."""
    limite = _int_param(request, "limite", default=PAGE_DEFAULT, low=1, high=PAGE_MAX)
    cursor = _int_param(request, "cursor", default=0, low=0, high=10**9)
    total = len(items) if isinstance(items, list) else items.count()
    page = list(items[cursor : cursor + limite])
    nxt = None
    if cursor + limite < total:
        query = request.GET.copy()
        query["cursor"] = str(cursor + limite)
        query["limite"] = str(limite)
        nxt = f"{request.path}?{query.urlencode()}"
    return page, {"next": nxt, "total": total}


@api_view
@_with_param_errors
def gateways(request):
    """Gateways with their status, a page (`limite`, `cursor`), searched by `q` (código,
    nome, MAC), filtered by `online=1|0`."""
    online = {"1": True, "0": False}.get(request.GET.get("online", ""))
    qs = gateway_list(
        conta=request.conta,
        search=request.GET.get("q", ""),
        online=online,
        with_device_count=False,
    )
    page, meta = _page(request, qs)
    counts = gateway_device_counts(conta=request.conta, gateway_ids=[g.pk for g in page])
    for g in page:
        g.num_dispositivos = counts.get(g.pk, 0)
    return JsonResponse({"gateways": [gateway_dict(g) for g in page], **meta})


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


def _dispositivos_page(request):
    qs = dispositivo_list(
        conta=request.conta,
        search=request.GET.get("q", ""),
        tipo=request.GET.get("tipo", ""),
        gateway_id=_int_param(request, "gateway", default=0, low=0, high=2**62) or None,
    )
    return _page(request, qs)


@api_view
@_with_param_errors
def dispositivos(request):
    """Devices with their latest value, a page (`limite`, `cursor`), searched by `q`
    (código, nome, gateway), filtered by `tipo` and `gateway` (id)."""
    page, meta = _dispositivos_page(request)
    rows = selectors.dispositivos_with_latest(conta=request.conta, dispositivos=page)
    return JsonResponse({"dispositivos": [_dispositivo_with_latest(d, r) for d, r in rows], **meta})


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
            # What the points are, as the chart's caption says it (periodos.series_summary).
            "resumo": series_summary([p.bucket for p in pontos], periodo.bucket),
            "pontos": [series_point_dict(p, consumo.get(p.bucket)) for p in pontos],
        }
    )


def _consumo_response(conta, *, meses: int, dispositivo=None, page=None, meta=None):
    result = selectors.monthly_consumption(
        conta=conta, meses=meses, dispositivo=dispositivo, dispositivos=page
    )
    return JsonResponse(
        {
            "meses": result["meses"],
            "dispositivos": [
                {**dispositivo_dict(d), "consumo": [dec(v) for v in valores]}
                for d, valores in result["linhas"]
            ],
            **(meta or {}),
        }
    )


@api_view
@_with_param_errors
def consumo_mensal(request):
    """Monthly consumption of the account's devices, the last `meses` months (default 6),
    a page of devices (`limite`, `cursor`, `q`, `tipo`, `gateway` as in dispositivos/);
    `por=tipo`: summed per utility (tipo, unidade) instead, one row each."""
    meses = _int_param(request, "meses", default=6, low=1, high=24)
    por = request.GET.get("por", "")
    if por == "tipo":
        result = selectors.monthly_consumption_totals(conta=request.conta, meses=meses)
        return JsonResponse(
            {
                "meses": result["meses"],
                "tipos": [
                    {"tipo": tipo, "unidade": unidade, "consumo": [dec(v) for v in valores]}
                    for tipo, unidade, valores in result["tipos"]
                ],
            }
        )
    if por not in ("", "dispositivo"):
        raise PeriodoInvalido("por", _("use dispositivo ou tipo"))
    page, meta = _dispositivos_page(request)
    return _consumo_response(request.conta, meses=meses, page=page, meta=meta)


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

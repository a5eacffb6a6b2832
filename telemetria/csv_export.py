"""CSV export of a device's or a gateway's readings for a period, streamed.

Rows come from `selectors.readings_for_export` a chunk at a time (keyset queries, each in
its own short transaction) and leave as soon as a chunk is written, so a year of readings
is never held in memory and a slow client holds no transaction. At most
TDS_CSV_MAX_CONCURRENT_PER_CONTA downloads of an account run at once (429 beyond).
Under ASGI the response is an async generator that pulls each chunk from the sync
cursor with `sync_to_async` (thread-sensitive: the cursor's connection and transaction
stay on one thread); a sync iterator would be read whole by Django before sending.

Formats: `padrao` (`,` separator, `.` decimal, instants in ISO 8601 UTC) and `br`
(`;` separator, decimal comma, local time of America/Sao_Paulo, UTF-8 BOM so Excel
opens accents and units like m³ correctly).
"""

import csv
import datetime as dt
import io

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from dispositivos.selectors import dispositivo_get, dispositivo_list, gateway_get
from tds_core.localtime import zone

from . import selectors
from .api.auth import api_view
from .api.views import _bad_request
from .livehub import Slots, redis_key, sync_client
from .periodos import PeriodoInvalido, parse_periodo

ROWS_PER_CHUNK = 2000
BOM = "\ufeff"
FORMATOS = ("padrao", "br")


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet would read as a formula (OWASP "CSV injection":
    starts with = + - @, a tab or a CR) gets a leading apostrophe. Device codes and units
    come from users and from gateways' payloads; values and times are ours (a negative
    value stays a number)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _header() -> list[str]:
    return [_("horario"), _("gateway"), _("dispositivo"), _("valor"), _("unidade")]


def csv_chunks(rows, *, formato: str, codigos: dict[int, tuple[str, str]]):
    """Yields encoded CSV chunks for `rows` of (time, dispositivo_id, valor, unidade)."""
    br = formato == "br"
    local = zone()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if br else ",", lineterminator="\r\n")
    if br:
        buffer.write(BOM)
    writer.writerow(_header())
    for count, (time, dispositivo_id, valor, unidade) in enumerate(rows, 1):
        gateway_codigo, dispositivo_codigo = codigos.get(dispositivo_id, ("", str(dispositivo_id)))
        if br:
            when = time.astimezone(local).strftime("%d/%m/%Y %H:%M:%S")
            text = str(valor).replace(".", ",")
        else:
            when = time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            text = str(valor)
        writer.writerow(
            [
                when,
                neutralise(gateway_codigo),
                neutralise(dispositivo_codigo),
                text,
                neutralise(unidade or ""),
            ]
        )
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def _async_chunks(sync_iterator):
    """Drives a sync chunk iterator from the event loop, one chunk per thread hop."""
    sentinel = object()
    next_chunk = sync_to_async(lambda: next(sync_iterator, sentinel), thread_sensitive=True)
    try:
        while (chunk := await next_chunk()) is not sentinel:
            yield chunk
    finally:
        await sync_to_async(sync_iterator.close, thread_sensitive=True)()


def _export(request, *, conta, dispositivos, filename_stem: str):
    formato = (request.GET.get("formato") or "padrao").strip().lower()
    if formato not in FORMATOS:
        return _bad_request("formato", _("use padrao ou br"))
    try:
        periodo = parse_periodo(request.GET)
    except PeriodoInvalido as exc:
        return _bad_request(exc.field, exc.message)
    slots = export_slots(conta)
    client = sync_client()
    token = slots.acquire(client)
    if token is None:
        return JsonResponse(
            {
                "erro": _(
                    "Há exportações demais em andamento nesta conta; tente de novo em instantes."
                )
            },
            status=429,
            headers={"Retry-After": "10"},
        )
    codigos = {d.pk: (d.gateway.codigo, d.codigo) for d in dispositivos}
    rows = selectors.readings_for_export(
        conta=conta,
        dispositivo_ids=list(codigos),
        inicio=periodo.inicio,
        fim=periodo.fim,
        chunk_size=settings.TDS_CSV_ROWS_PER_CHUNK,
    )
    chunks = csv_chunks(rows, formato=formato, codigos=codigos)
    content = _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    local = zone()
    stamp = f"{periodo.inicio.astimezone(local):%Y%m%d-%H%M}_{periodo.fim.astimezone(local):%Y%m%d-%H%M}"
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename_stem}_{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    # Released when the response is closed: sent in full, or the client went away.
    response._resource_closers.append(lambda: slots.release(client, token))
    return response


def export_slots(conta) -> Slots:
    """At most TDS_CSV_MAX_CONCURRENT_PER_CONTA downloads of one account at once."""
    return Slots(
        redis_key("csv", "conta", conta.pk),
        limit=settings.TDS_CSV_MAX_CONCURRENT_PER_CONTA,
        ttl=3600,
    )


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40]


@api_view
def export_dispositivo(request, pk):
    dispositivo = dispositivo_get(conta=request.conta, pk=pk)
    return _export(
        request,
        conta=request.conta,
        dispositivos=[dispositivo],
        filename_stem=f"leituras_{_safe(dispositivo.gateway.codigo)}_{_safe(dispositivo.codigo)}",
    )


@api_view
def export_gateway(request, pk):
    gateway = gateway_get(conta=request.conta, pk=pk)
    dispositivos = list(dispositivo_list(conta=request.conta, gateway_id=gateway.pk))
    return _export(
        request,
        conta=request.conta,
        dispositivos=dispositivos,
        filename_stem=f"leituras_{_safe(gateway.codigo)}",
    )

"""Plain-dict shapes of the JSON API (decimals as strings, instants as ISO 8601 UTC)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tds_core.wire import format_timestamp


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def dec(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return str(value)


def gateway_dict(g) -> dict:
    return {
        "id": g.pk,
        "codigo": g.codigo,
        "nome": g.nome,
        "mac": g.mac,
        "is_online": g.is_online,
        "last_seen": iso(g.last_seen),
        "intervalo_envio_segundos": g.intervalo_envio_segundos,
        "dispositivos": getattr(g, "num_dispositivos", None),
    }


def dispositivo_dict(d) -> dict:
    return {
        "id": d.pk,
        "codigo": d.codigo,
        "nome": d.nome,
        "tipo": d.tipo,
        "tipo_medidor": d.tipo_medidor,
        "unidade": d.unidade,
        "gateway_id": d.gateway_id,
        "gateway_codigo": d.gateway.codigo,
    }


def reading_dict(r: dict) -> dict:
    return {
        "time": iso(r["time"]),
        "gateway_id": r["gateway_id"],
        "gateway_codigo": r.get("gateway_codigo", ""),
        "dispositivo_id": r["dispositivo_id"],
        "dispositivo_codigo": r.get("dispositivo_codigo", ""),
        "dispositivo_nome": r.get("dispositivo_nome", ""),
        "valor": dec(r["valor"]),
        "unidade": r.get("unidade", ""),
    }


def series_point_dict(p, consumo=None) -> dict:
    """A storage.SeriesPoint with the API's keys (kept as published: docs/naming.md), and
    `consumo`, the bucket's consumption by the billable rule (None for an instantaneous
    meter)."""
    return {
        "t": iso(p.bucket),
        "n": p.n,
        "min": dec(p.minimo),
        "max": dec(p.maximo),
        "avg": dec(p.media),
        "sum": dec(p.soma),
        "first": dec(p.primeiro),
        "last": dec(p.ultimo),
        "consumo": dec(consumo),
    }


def now_iso() -> str:
    return iso(timezone.now())

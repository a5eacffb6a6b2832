"""Plain-dict shapes of the JSON API (decimals as strings, instants as ISO 8601 UTC)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


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
        "valor": dec(r["valor"]),
        "unidade": r.get("unidade", ""),
    }


def now_iso() -> str:
    return iso(timezone.now())

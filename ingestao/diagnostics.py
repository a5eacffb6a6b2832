"""Diagnostics messages of the gateway agents (`tds_new/devices/{mac}/diagnostics`):
validated here and stored as each gateway's latest diagnostics, in the consumer's batch
transaction. A malformed one becomes a dead letter like any other message."""

import datetime as dt
import json

from .models import DiagnosticoGateway, Motivo

MAX_BYTES = 65536


def diagnostics_parse(*, payload: bytes, topic_mac: str) -> tuple[dict | None, str, str]:
    """(fields to store, "", "") or (None, reason, detail)."""
    if len(payload) > MAX_BYTES:
        return None, Motivo.TOO_LARGE, f"{len(payload)} bytes"
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        return None, Motivo.NOT_UTF8, ""
    except json.JSONDecodeError as exc:
        return None, Motivo.NOT_JSON, str(exc)[:200]
    if not isinstance(data, dict) or not isinstance(data.get("timestamp"), str):
        return None, Motivo.SCHEMA, "diagnostics: timestamp"
    mac = str(data.get("gateway_mac", "")).strip().lower().replace("-", ":")
    if mac != topic_mac:
        return None, Motivo.MAC_MISMATCH, f"diagnostics: {mac!r}"
    sent = _timestamp(data["timestamp"])
    if sent is None:
        return None, Motivo.BAD_TIMESTAMP, data["timestamp"][:40]
    outbox = data.get("outbox") if isinstance(data.get("outbox"), dict) else {}
    relogio = data.get("relogio") if isinstance(data.get("relogio"), dict) else {}
    versao = data.get("config_versao")
    ntp = relogio.get("ntp_sincronizado")
    return (
        {
            "enviado_em": sent,
            "config_versao": versao if isinstance(versao, int) and versao >= 0 else None,
            "outbox_pendentes": _count(outbox.get("pendentes")),
            "outbox_descartadas": _count(outbox.get("descartadas")),
            "ntp_sincronizado": ntp if isinstance(ntp, bool) else None,
            "payload": data,
        },
        "",
        "",
    )


def _timestamp(text: str) -> dt.datetime | None:
    """ISO 8601 with an offset. Unlike a reading's, a diagnostics timestamp far in the
    future is kept: showing how far the gateway's clock is off is the point."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _count(value) -> int:
    return value if isinstance(value, int) and 0 <= value < 2**31 else 0


_REPLACED = [
    f.name
    for f in DiagnosticoGateway._meta.concrete_fields
    if f.name not in ("id", "gateway", "created_at")
]


def diagnosticos_store(*, items: dict[int, tuple[int, dt.datetime, dict]]) -> None:
    """items: gateway id -> (conta id, received at, parsed fields); the latest wins. One
    INSERT ... ON CONFLICT for the batch (update_or_create a gateway at a time: 80 queries
    to replace 20 gateways' rows, 120 to create them)."""
    DiagnosticoGateway.objects.bulk_create(
        [
            DiagnosticoGateway(gateway_id=gateway_id, conta_id=conta_id, recebido_em=received, **f)
            for gateway_id, (conta_id, received, f) in items.items()
        ],
        update_conflicts=True,
        unique_fields=["gateway"],
        update_fields=_REPLACED,
    )


def diagnostics_collect(item, mac, gateway, prepared, dead_letter) -> None:
    """The consumer's hook for one received diagnostics message (worker.prepare)."""
    if gateway is None or not gateway.is_active:
        reason = Motivo.UNKNOWN_GATEWAY if gateway is None else Motivo.INACTIVE_GATEWAY
        fields, detail = None, "diagnostics"
    else:
        fields, reason, detail = diagnostics_parse(payload=item.payload, topic_mac=mac)
    if fields is None:
        prepared.rejects[reason] += 1
        prepared.dead.append(dead_letter(item, reason, detail, gateway))
        return
    prepared.diagnostics[gateway.id] = (gateway.conta_id, item.received_at, fields)

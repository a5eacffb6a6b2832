"""Domain rules of the consumer: what each message of a batch means, with no database
(the registry is in memory). `prepare_batch` turns received messages into the rows to
store, the dead letters with their reasons and what the batch says about each gateway's
status; the pipeline then writes all of it in one transaction.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from dispositivos.services import GatewayStatusBatch
from tds_core import live, wire

from .diagnostics import diagnostics_collect
from .models import Motivo
from .registry import GatewayEntry, RegistryCache
from .transport import Received
from .validation import parse_telemetry

LIVE_MAX_READINGS = 1000  # per account per batch; the newest are kept


@dataclass(slots=True)
class Prepared:
    """A validated batch, ready for its transaction."""

    batch: list[Received]
    started: float
    rows: list = field(default_factory=list)  # ReadingRow, in COPY column order
    dead: list = field(default_factory=list)  # dead letters (dicts for rejeitadas_store)
    rejects: Counter = field(default_factory=Counter)
    status: GatewayStatusBatch = field(default_factory=GatewayStatusBatch)
    readings: dict = field(default_factory=lambda: defaultdict(list))  # conta id -> (device, row)
    n_status: int = 0
    diagnostics: dict = field(default_factory=dict)  # gateway id -> latest (ingestao/diagnostics)


def prepare_batch(
    batch: list[Received], *, registry: RegistryCache, started: float, now: dt.datetime
) -> Prepared:
    p = Prepared(batch=batch, started=started)
    for item in batch:
        mac, kind = wire.topic_parts(item.topic)
        gateway = registry.get(mac) if mac else None
        if kind == wire.STATUS:
            p.n_status += 1
            status_message(p, item, gateway)
        elif kind == wire.DIAGNOSTICS:
            p.n_status += 1
            diagnostics_collect(item, mac, gateway, p, dead_letter)
        else:
            telemetry_message(p, item, mac, gateway, now)
    return p


def telemetry_message(
    p: Prepared, item: Received, mac: str | None, gateway: GatewayEntry | None, now
) -> None:
    """Readings to store, a dead letter for what was refused; an active gateway that
    speaks for itself was heard (online), even when some of its readings were refused."""
    out = parse_telemetry(topic_mac=mac, payload=item.payload, gateway=gateway, now=now)
    if out.reason:
        reject(p, item, out.reason, out.detail, gateway)
    if gateway is not None and gateway.is_active and out.reason != Motivo.MAC_MISMATCH:
        p.status.heard(gateway.id, item.received_at)
    if out.rows:
        p.rows.extend(out.rows)
        p.readings[gateway.conta_id].extend(out.readings)


def status_message(p: Prepared, item: Received, gateway: GatewayEntry | None) -> None:
    """`online` / `offline` of a known gateway; anything else is a dead letter, except
    the cleared retained status of an unknown gateway (nothing to keep)."""
    online = wire.parse_status(item.payload)
    if gateway is None or online is None:
        if gateway is None and not item.payload:
            return
        reason = Motivo.UNKNOWN_GATEWAY if gateway is None else Motivo.BAD_STATUS
        reject(p, item, reason, f"status {wire.status_text(item.payload)[:40]!r}", gateway)
        return
    if not gateway.is_active:
        return
    if online:
        p.status.heard(gateway.id, item.received_at)
    else:
        p.status.went_offline(gateway.id)


def reject(p: Prepared, item: Received, reason: str, detail: str, gateway) -> None:
    p.rejects[reason] += 1
    p.dead.append(dead_letter(item, reason, detail, gateway))


def dead_letter(item: Received, reason: str, detail: str, gateway) -> dict:
    return {
        "recebida_em": item.received_at,
        "topico": item.topic,
        "payload": item.payload,
        "motivo": reason,
        "detalhe": detail,
        "gateway_id": gateway.id if gateway else None,
        "conta_id": gateway.conta_id if gateway else None,
    }


def readings_event(pairs: list) -> dict:
    """The `readings` live event of one account's (device, row) pairs, newest kept."""
    return live.readings_event(
        readings=[
            live.reading(
                gateway_id=row.gateway_id,
                dispositivo_id=row.dispositivo_id,
                dispositivo_codigo=device.codigo,
                time=row.time,
                valor=row.valor,
                unidade=row.unidade,
            )
            for device, row in pairs[-LIVE_MAX_READINGS:]
        ]
    )

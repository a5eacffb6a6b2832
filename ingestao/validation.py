"""Validation of the wire format (DESIGN.md, "Wire contract"). Pure: no database.

`parse_telemetry` turns one MQTT message into reading rows or a rejection with a
reason code (ingestao.models.Motivo). A known gateway with an unknown device code keeps
its other readings and reports the unknown codes as an `unknown_device` rejection.
"""

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from dispositivos.mac import normalize_mac
from telemetria.storage import ReadingRow

from . import conf
from .models import Motivo
from .registry import GatewayEntry

TOPIC_PREFIX = "tds_new/devices/"
VALOR_LIMIT = Decimal("1e11")  # numeric(15, 4)
RAW_LIMIT = 10**20
OLDEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAX_CODIGO = 20
MAX_UNIDADE = 16


@dataclass(slots=True)
class Outcome:
    gateway: GatewayEntry | None = None
    rows: list = field(default_factory=list)
    reason: str | None = None
    detail: str = ""
    readings: list = field(default_factory=list)  # (DeviceEntry, ReadingRow) for live events


@lru_cache(maxsize=65536)
def _mac(value: str) -> str | None:
    return normalize_mac(value)


def topic_parts(topic: str) -> tuple[str | None, str | None]:
    """`tds_new/devices/{mac}/{kind}` -> (normalized mac or None, kind) or (None, None)."""
    if not topic.startswith(TOPIC_PREFIX):
        return None, None
    rest = topic[len(TOPIC_PREFIX) :].split("/")
    if len(rest) != 2:
        return None, None
    return _mac(rest[0]), rest[1]


def _parse_constant(name: str):
    return float(name)  # NaN / Infinity: kept as float so they are reported as bad_value


def decode(payload: bytes):
    """bytes -> JSON value, or raises (reason, detail)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(Motivo.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_parse_constant)
    except (ValueError, RecursionError, InvalidOperation) as exc:
        raise Rejected(Motivo.NOT_JSON, str(exc)[:200]) from None


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def parse_timestamp(value, now: dt.datetime) -> dt.datetime:
    if not isinstance(value, str):
        raise Rejected(Motivo.SCHEMA, "timestamp: must be an ISO 8601 string")
    try:
        ts = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(Motivo.BAD_TIMESTAMP, f"timestamp: {value[:60]!r} is not ISO 8601") from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise Rejected(
            Motivo.BAD_TIMESTAMP, f"timestamp: {value[:60]!r} has no offset (use Z or ±hh:mm)"
        )
    if ts < OLDEST:
        raise Rejected(Motivo.BAD_TIMESTAMP, f"timestamp: {value[:60]!r} is before 2000")
    if ts > now + dt.timedelta(seconds=conf.max_future_seconds()):
        raise Rejected(Motivo.FUTURE_TIMESTAMP, f"timestamp: {value[:60]!r} is in the future")
    return ts


def _number(value, name: str, index: int):
    kind = type(value)
    if kind is Decimal or kind is int:  # the common case, checked cheaply
        return value
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise Rejected(Motivo.SCHEMA, f"leituras[{index}].{name}: must be a number")
    if isinstance(value, float):  # only NaN/Infinity come as float
        if not math.isfinite(value):
            raise Rejected(Motivo.BAD_VALUE, f"leituras[{index}].{name}: {value} is not finite")
        value = Decimal(repr(value))
    return value


def parse_telemetry(
    *, topic_mac: str | None, payload: bytes, gateway: GatewayEntry | None, now: dt.datetime
) -> Outcome:
    """One telemetry message -> Outcome (rows to store and/or a rejection)."""
    out = Outcome(gateway=gateway)
    try:
        _parse(out, topic_mac, payload, gateway, now)
    except Rejected as exc:
        out.rows = []
        out.readings = []
        out.reason, out.detail = exc.reason, exc.detail
    return out


def _parse(out, topic_mac, payload, gateway, now) -> None:
    if len(payload) > conf.max_payload_bytes():
        raise Rejected(Motivo.TOO_LARGE, f"{len(payload)} bytes > {conf.max_payload_bytes()} bytes")
    data = decode(payload)
    if not isinstance(data, dict):
        raise Rejected(Motivo.SCHEMA, "payload: must be a JSON object")
    mac_value = data.get("gateway_mac")
    if not isinstance(mac_value, str):
        raise Rejected(Motivo.SCHEMA, "gateway_mac: required string")
    mac = _mac(mac_value)
    if mac is None:
        raise Rejected(Motivo.SCHEMA, f"gateway_mac: {mac_value[:40]!r} is not a MAC address")
    if topic_mac is None:
        raise Rejected(Motivo.UNKNOWN_GATEWAY, "topic: no valid MAC address in the topic")
    if mac != topic_mac:
        raise Rejected(Motivo.MAC_MISMATCH, f"gateway_mac {mac} differs from topic MAC {topic_mac}")
    if gateway is None:
        raise Rejected(Motivo.UNKNOWN_GATEWAY, f"no gateway registered with MAC {mac}")
    if not gateway.is_active:
        raise Rejected(Motivo.INACTIVE_GATEWAY, f"gateway {mac} (or its account) is inactive")
    if "timestamp" not in data:
        raise Rejected(Motivo.SCHEMA, "timestamp: required")
    leituras = data.get("leituras")
    if not isinstance(leituras, list):
        raise Rejected(Motivo.SCHEMA, "leituras: required list")
    if not leituras:
        raise Rejected(Motivo.SCHEMA, "leituras: empty list")
    if len(leituras) > conf.max_readings():
        raise Rejected(
            Motivo.TOO_MANY_READINGS, f"leituras: {len(leituras)} > {conf.max_readings()}"
        )
    ts = parse_timestamp(data["timestamp"], now)
    unknown = []
    devices = gateway.devices
    for i, item in enumerate(leituras):
        if not isinstance(item, dict):
            raise Rejected(Motivo.SCHEMA, f"leituras[{i}]: must be an object")
        codigo = item.get("dispositivo_codigo")
        if not isinstance(codigo, str) or not codigo or len(codigo) > MAX_CODIGO:
            raise Rejected(Motivo.SCHEMA, f"leituras[{i}].dispositivo_codigo: required string")
        has_valor, has_raw = "valor" in item, "raw" in item
        if has_valor == has_raw:
            raise Rejected(Motivo.SCHEMA, f"leituras[{i}]: exactly one of valor or raw")
        unidade = item.get("unidade")
        if unidade is not None and (not isinstance(unidade, str) or len(unidade) > MAX_UNIDADE):
            raise Rejected(Motivo.SCHEMA, f"leituras[{i}].unidade: string of up to 16 characters")
        device = devices.get(codigo)
        if has_valor:
            valor = _number(item["valor"], "valor", i)
            payload_raw = None
        else:
            raw = _number(item["raw"], "raw", i)
            if abs(raw) >= RAW_LIMIT:
                raise Rejected(Motivo.BAD_VALUE, f"leituras[{i}].raw: out of range")
            if isinstance(raw, Decimal) and raw != raw.to_integral_value():
                raise Rejected(Motivo.SCHEMA, f"leituras[{i}].raw: must be an integer")
            raw = int(raw)
            valor = None if device is None else raw * device.fator
            payload_raw = None if device is None else {"raw": raw, "fator": str(device.fator)}
        if valor is not None:
            try:
                valor = Decimal(valor)
                finite = valor.is_finite() and abs(valor) < VALOR_LIMIT
            except (InvalidOperation, OverflowError):
                finite = False
            if not finite:
                raise Rejected(Motivo.BAD_VALUE, f"leituras[{i}]: value out of numeric(15,4) range")
        if device is None or not device.is_active:
            unknown.append(codigo)
            continue
        row = ReadingRow(
            ts,
            gateway.conta_id,
            gateway.id,
            device.id,
            valor,
            unidade if unidade else device.unidade,
            payload_raw,
        )
        out.rows.append(row)
        out.readings.append((device, row))
    if unknown:
        out.reason = Motivo.UNKNOWN_DEVICE
        out.detail = "dispositivo_codigo not registered (or inactive): " + ", ".join(
            sorted(set(unknown))
        )

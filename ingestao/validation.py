"""Validation of the wire format (DESIGN.md, "Wire contract"). Pure: no database.

`parse_telemetry` turns one MQTT message into reading rows or a rejection with a
reason code (ingestao.models.Motivo). A known gateway with an unknown device code keeps
its other readings and reports the unknown codes as an `unknown_device` rejection.

Two paths: `_parse_fast` takes the usual message (well-formed, every device known) with
msgspec, which decodes and type-checks in C; anything unusual makes it give up, and
`_parse`, the reference path, decides and names the reason. The fast path only ever
produces what the reference path would (a differential test checks it).
"""

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import msgspec
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from tds_core.wire import (
    MAX_CODIGO,
    MAX_UNIDADE,
    OLDEST,
    RAW_LIMIT,
    VALOR_LIMIT,
)
from tds_core.wire import cached_mac as _mac
from telemetria.storage import ReadingRow
from telemetria.storage.tables import READING_COLUMNS

from .models import Motivo
from .registry import GatewayEntry

# ReadingRow is a NamedTuple in COPY column order: tuple.__new__ builds one without its
# Python-level __new__ (a measurable cost per reading). Falls back to the constructor if
# its fields ever stop matching the columns.
if getattr(ReadingRow, "_fields", None) == READING_COLUMNS:
    _new_row = tuple.__new__
else:  # pragma: no cover

    def _new_row(cls, values):
        return cls(*values)


@dataclass(slots=True)
class Outcome:
    gateway: GatewayEntry | None = None
    rows: list = field(default_factory=list)
    reason: str | None = None
    detail: str = ""
    readings: list = field(default_factory=list)  # (DeviceEntry, ReadingRow) for live events


@lru_cache(maxsize=1)
def _limits() -> tuple[int, int, dt.timedelta]:
    """(max payload bytes, max readings, max future skew), read from settings once: reading
    settings through Django's lazy object costs microseconds per message."""
    return (
        int(settings.TDS_INGEST_MAX_PAYLOAD_BYTES),
        int(settings.TDS_INGEST_MAX_READINGS),
        dt.timedelta(seconds=settings.TDS_INGEST_MAX_FUTURE_SECONDS),
    )


@receiver(setting_changed)
def _settings_changed(*, setting, **kwargs):
    if setting.startswith("TDS_INGEST_"):
        _limits.cache_clear()


def _parse_constant(name: str):
    return float(name)  # NaN / Infinity: kept as float so they are reported as bad_value


# One decoder for every message: json.loads(text, **kw) would build a new one per call.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_parse_constant)
_decode_json = _DECODER.decode


def decode(payload: bytes):
    """bytes -> JSON value, or raises (reason, detail)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(Motivo.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}") from None
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _decode_json(text)
    except (ValueError, RecursionError, InvalidOperation) as exc:
        raise Rejected(Motivo.NOT_JSON, str(exc)[:200]) from None


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


# Parsed timestamps by their text: a gateway's readings of one instant, and many gateways
# reporting the same second, arrive with identical strings. Only successful parses are
# kept; the checks below run every time (they depend on `now`).
_TS_CACHE: dict[str, dt.datetime] = {}
_TS_CACHE_MAX = 4096


def parse_timestamp(value, now: dt.datetime) -> dt.datetime:
    if not isinstance(value, str):
        raise Rejected(Motivo.SCHEMA, "timestamp: must be an ISO 8601 string")
    ts = _TS_CACHE.get(value)
    if ts is None:
        try:
            ts = dt.datetime.fromisoformat(value)
        except ValueError:
            raise Rejected(
                Motivo.BAD_TIMESTAMP, f"timestamp: {value[:60]!r} is not ISO 8601"
            ) from None
        if len(_TS_CACHE) >= _TS_CACHE_MAX:
            _TS_CACHE.clear()
        _TS_CACHE[value] = ts
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise Rejected(
            Motivo.BAD_TIMESTAMP, f"timestamp: {value[:60]!r} has no offset (use Z or ±hh:mm)"
        )
    if ts < OLDEST:
        raise Rejected(Motivo.BAD_TIMESTAMP, f"timestamp: {value[:60]!r} is before 2000")
    if ts > now + _limits()[2]:
        raise Rejected(Motivo.FUTURE_TIMESTAMP, f"timestamp: {value[:60]!r} is in the future")
    return ts


VALOR_SCALE = Decimal("0.0001")  # the 4 decimal places of numeric(15, 4)
MIN_EXP = -1000  # PostgreSQL's numeric input refuses smaller exponents


def _fit(valor: Decimal) -> Decimal | None:
    """valor rounded as numeric(15, 4) stores it (half away from zero), or None when
    PostgreSQL would refuse it: out of range once rounded (99999999999.99995), or an
    exponent below -1000 ('1e-20000'::numeric: "value overflows numeric format"; in a
    binary COPY its scale made the whole batch fail). The rounded value has scale 4, so
    the COPY never sees a scale it refuses, and live events show what the table holds."""
    if not (valor.is_finite() and -VALOR_LIMIT < valor < VALOR_LIMIT):
        return None
    if valor.adjusted() < MIN_EXP:
        return None
    valor = valor.quantize(VALOR_SCALE, ROUND_HALF_UP)
    return valor if -VALOR_LIMIT < valor < VALOR_LIMIT else None


def text_ok(value: str) -> bool:
    """True when PostgreSQL can store the string: no NUL character, valid UTF-8 (a lone
    surrogate such as JSON's "\\ud800" cannot be encoded)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return "\x00" not in value


def _from_register(raw: int, device) -> tuple[Decimal, dict]:
    """A Modbus register read -> (valor, payload_raw kept for audit)."""
    return raw * device.fator, {"raw": raw, "fator": str(device.fator)}


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
    if _parse_fast(out, topic_mac, payload, gateway, now):
        return out
    try:
        _parse(out, topic_mac, payload, gateway, now)
    except Rejected as exc:
        out.rows = []
        out.readings = []
        out.reason, out.detail = exc.reason, exc.detail
    return out


class _Leitura(msgspec.Struct):
    dispositivo_codigo: str
    valor: Any = msgspec.UNSET  # left untyped: checked below exactly as _parse does
    raw: Any = msgspec.UNSET
    unidade: Any = None


class _Telemetria(msgspec.Struct):
    gateway_mac: str
    timestamp: str
    leituras: list[_Leitura]


# JSON numbers with a fraction or exponent become Decimal from their text, as in _parse.
_decode_fast = msgspec.json.Decoder(_Telemetria, float_hook=Decimal).decode
_UNSET = msgspec.UNSET


def _parse_fast(out, topic_mac, payload, gateway, now) -> bool:
    """The usual message only; False (out untouched) means: let _parse decide."""
    max_bytes, max_readings, _ = _limits()
    if gateway is None or not gateway.is_active or len(payload) > max_bytes:
        return False
    try:
        if not payload.isascii():
            # msgspec skips unknown keys without checking their UTF-8 (a fuzzed key with a
            # stray 0x80 passed here while the reference path refused the message)
            payload.decode("utf-8")
        data = _decode_fast(payload)
    except (msgspec.MsgspecError, UnicodeDecodeError):  # not JSON or UTF-8, wrong shape
        return False
    leituras = data.leituras
    if not leituras or len(leituras) > max_readings or topic_mac is None:
        return False
    if _mac(data.gateway_mac) != topic_mac:
        return False
    try:
        ts = parse_timestamp(data.timestamp, now)
    except Rejected:
        return False
    devices = gateway.devices
    conta_id, gateway_id = gateway.conta_id, gateway.id
    rows, readings = [], []
    for item in leituras:
        device = devices.get(item.dispositivo_codigo)
        if device is None or not device.is_active:
            return False
        unidade = item.unidade
        if unidade is not None and (
            type(unidade) is not str or len(unidade) > MAX_UNIDADE or not text_ok(unidade)
        ):
            return False
        valor, raw = item.valor, item.raw
        if raw is _UNSET:
            kind = type(valor)
            if kind is int:
                valor = Decimal(valor)
            elif kind is not Decimal:
                return False  # absent, null, bool, string...
            payload_raw = None
        elif valor is _UNSET and type(raw) is int and -RAW_LIMIT < raw < RAW_LIMIT:
            valor, payload_raw = _from_register(raw, device)
        else:
            return False
        valor = _fit(valor)
        if valor is None:
            return False
        row = _new_row(
            ReadingRow,
            (ts, conta_id, gateway_id, device.id, valor, unidade or device.unidade, payload_raw),
        )
        rows.append(row)
        readings.append((device, row))
    out.rows, out.readings = rows, readings
    return True


def _parse(out, topic_mac, payload, gateway, now) -> None:
    """The reference path: each check in order, the first failure names the reason."""
    data = _json_object(payload)
    _check_sender(data, topic_mac, gateway)
    ts, leituras = _envelope(data, now)
    devices = gateway.devices
    conta_id, gateway_id = gateway.conta_id, gateway.id
    unknown = []
    for i, item in enumerate(leituras):
        codigo, valor, unidade, payload_raw = _reading(i, item, devices)
        device = devices.get(codigo)
        if device is None or not device.is_active:
            unknown.append(codigo)
            continue
        row = _new_row(
            ReadingRow,
            (
                ts,
                conta_id,
                gateway_id,
                device.id,
                valor,
                unidade if unidade else device.unidade,
                payload_raw,
            ),
        )
        out.rows.append(row)
        out.readings.append((device, row))
    if unknown:
        out.reason = Motivo.UNKNOWN_DEVICE
        out.detail = "dispositivo_codigo not registered (or inactive): " + ", ".join(
            sorted(set(unknown))
        )


def _json_object(payload: bytes) -> dict:
    max_bytes = _limits()[0]
    if len(payload) > max_bytes:
        raise Rejected(Motivo.TOO_LARGE, f"{len(payload)} bytes > {max_bytes} bytes")
    data = decode(payload)
    if not isinstance(data, dict):
        raise Rejected(Motivo.SCHEMA, "payload: must be a JSON object")
    return data


def _check_sender(data: dict, topic_mac: str | None, gateway: GatewayEntry | None) -> None:
    """The payload's MAC is a MAC, the topic's, and a registered active gateway's."""
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


def _envelope(data: dict, now: dt.datetime) -> tuple[dt.datetime, list]:
    """(timestamp, leituras) after checking their presence, shape and bounds."""
    max_readings = _limits()[1]
    if "timestamp" not in data:
        raise Rejected(Motivo.SCHEMA, "timestamp: required")
    leituras = data.get("leituras")
    if not isinstance(leituras, list):
        raise Rejected(Motivo.SCHEMA, "leituras: required list")
    if not leituras:
        raise Rejected(Motivo.SCHEMA, "leituras: empty list")
    if len(leituras) > max_readings:
        raise Rejected(Motivo.TOO_MANY_READINGS, f"leituras: {len(leituras)} > {max_readings}")
    return parse_timestamp(data["timestamp"], now), leituras


def _reading(i: int, item, devices: dict) -> tuple[str, Decimal | None, str | None, dict | None]:
    """One reading -> (codigo, valor, unidade, payload_raw); valor is None for a `raw`
    reading of an unknown device (it has no conversion factor)."""
    if not isinstance(item, dict):
        raise Rejected(Motivo.SCHEMA, f"leituras[{i}]: must be an object")
    codigo = item.get("dispositivo_codigo")
    if not isinstance(codigo, str) or not codigo or len(codigo) > MAX_CODIGO or not text_ok(codigo):
        raise Rejected(Motivo.SCHEMA, f"leituras[{i}].dispositivo_codigo: required string")
    has_valor, has_raw = "valor" in item, "raw" in item
    if has_valor == has_raw:
        raise Rejected(Motivo.SCHEMA, f"leituras[{i}]: exactly one of valor or raw")
    unidade = item.get("unidade")
    if unidade is not None and (
        not isinstance(unidade, str) or len(unidade) > MAX_UNIDADE or not text_ok(unidade)
    ):
        raise Rejected(
            Motivo.SCHEMA,
            f"leituras[{i}].unidade: text of up to 16 characters (no NUL, valid UTF-8)",
        )
    if has_valor:
        valor = item["valor"]
        if type(valor) is not Decimal:  # Decimal is what the decoder gives for 12.5
            valor = _number(valor, "valor", i)
        payload_raw = None
    else:
        valor, payload_raw = _register(i, item["raw"], devices.get(codigo))
    if valor is not None:
        valor = _in_range(i, valor)
    return codigo, valor, unidade, payload_raw


def _register(i: int, raw, device) -> tuple[Decimal | None, dict | None]:
    if type(raw) is not int:  # int is what the decoder gives for 12
        raw = _number(raw, "raw", i)
    if abs(raw) >= RAW_LIMIT:
        raise Rejected(Motivo.BAD_VALUE, f"leituras[{i}].raw: out of range")
    if isinstance(raw, Decimal) and raw != raw.to_integral_value():
        raise Rejected(Motivo.SCHEMA, f"leituras[{i}].raw: must be an integer")
    return (None, None) if device is None else _from_register(int(raw), device)


def _in_range(i: int, valor) -> Decimal:
    try:
        if type(valor) is not Decimal:
            valor = Decimal(valor)
        fitted = _fit(valor)
    except (InvalidOperation, OverflowError):
        fitted = None
    if fitted is None:
        raise Rejected(Motivo.BAD_VALUE, f"leituras[{i}]: value out of numeric(15,4) range")
    return fitted

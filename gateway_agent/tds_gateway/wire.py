"""The gateway side of the wire contract (../shared/DESIGN.md, "Wire contract").

Topics, the telemetry and diagnostics payloads the agent publishes and the config payload
it receives. This package does not import the platform (it runs on the gateway without
Django); the platform's tests parse what this module encodes with the consumer's own
validation, so the two cannot drift apart silently.
"""

import datetime as dt
import json
from decimal import Decimal

TOPIC_ROOT = "tds_new/devices"
STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"
# The consumer rejects a message with more than 64 readings (TDS_INGEST_MAX_READINGS).
MAX_READINGS_PER_MESSAGE = 50
DATA_TYPES = ("uint16", "int16", "uint32", "int32", "float32")
FUNCTIONS = ("holding", "input")
WORD_ORDERS = ("big", "little")


def topic(mac: str, kind: str) -> str:
    """kind: telemetry | status | config | diagnostics."""
    return f"{TOPIC_ROOT}/{mac}/{kind}"


def timestamp(t: float) -> str:
    """ISO 8601 UTC with `Z` (the contract rejects timestamps without an offset)."""
    d = dt.datetime.fromtimestamp(t, tz=dt.UTC)
    if d.microsecond:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def reading_value(value: Decimal) -> float:
    """The engineering value as a JSON number: 4 decimals, what numeric(15,4) keeps."""
    return float(value.quantize(Decimal("0.0001")))


def telemetry_payloads(*, mac: str, t: float, leituras: list[dict]) -> list[bytes]:
    """One poll's readings (all with the poll's time), split so no message exceeds
    MAX_READINGS_PER_MESSAGE."""
    ts = timestamp(t)
    out = []
    for i in range(0, len(leituras), MAX_READINGS_PER_MESSAGE):
        chunk = leituras[i : i + MAX_READINGS_PER_MESSAGE]
        body = {"gateway_mac": mac, "timestamp": ts, "leituras": chunk}
        out.append(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return out


def diagnostics_payload(**fields) -> bytes:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


class ConfigError(ValueError):
    pass


def parse_config(payload: bytes, *, mac: str) -> dict:
    """Validates the platform's config message; raises ConfigError saying what is wrong."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("not an object")
    if data.get("gateway_mac") != mac:
        raise ConfigError(f"gateway_mac {data.get('gateway_mac')!r} is not {mac!r}")
    versao, intervalo = data.get("versao"), data.get("intervalo_segundos")
    if not isinstance(versao, int) or versao < 0:
        raise ConfigError("versao must be a non-negative integer")
    if not isinstance(intervalo, int | float) or not 0.1 <= intervalo <= 86400:
        raise ConfigError("intervalo_segundos out of range")
    devices = data.get("dispositivos")
    if not isinstance(devices, list):
        raise ConfigError("dispositivos must be a list")
    out = []
    for d in devices:
        try:
            dev = {
                "codigo": str(d["dispositivo_codigo"]),
                "slave_id": int(d["slave_id"]),
                "registrador": int(d["registrador"]),
                "funcao": d.get("funcao", "holding"),
                "tipo_dado": d.get("tipo_dado", "uint16"),
                "ordem_palavras": d.get("ordem_palavras", "big"),
                "fator": Decimal(str(d.get("fator_conversao", "1"))),
                "unidade": str(d.get("unidade") or ""),
                "host": str(d.get("modbus_host") or ""),
                "porta": int(d.get("modbus_porta") or 502),
            }
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ConfigError(f"bad device {d!r}: {exc!r}") from None
        if dev["funcao"] not in FUNCTIONS or dev["tipo_dado"] not in DATA_TYPES:
            raise ConfigError(f"bad device {d!r}: funcao/tipo_dado")
        if dev["ordem_palavras"] not in WORD_ORDERS or not dev["fator"].is_finite():
            raise ConfigError(f"bad device {d!r}: ordem_palavras/fator_conversao")
        if not (1 <= dev["slave_id"] <= 247 and 0 <= dev["registrador"] <= 65535):
            raise ConfigError(f"bad device {d!r}: slave_id/registrador")
        out.append(dev)
    return {"versao": versao, "intervalo": float(intervalo), "dispositivos": out}

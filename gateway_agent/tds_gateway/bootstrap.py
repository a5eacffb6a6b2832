"""The bootstrap file: only what cannot come from the platform (TOML).

Everything else (interval, meters, their addressing and types) arrives in the retained
config message and is cached in the outbox database, so the agent polls with its last
known configuration even when it boots without the broker.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Serial:
    port: str = ""  # e.g. /dev/ttyUSB0; empty: no RS-485 bus
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"  # N, E, O
    stopbits: int = 1


@dataclass
class Bootstrap:
    broker_host: str
    broker_port: int
    ca_file: str
    cert_file: str
    key_file: str
    outbox_path: str
    serial: Serial = field(default_factory=Serial)
    modbus_timeout: float = 0.5  # seconds per request
    outbox_max_messages: int = 100_000
    outbox_max_age_days: float = 7
    drain_rate: float = 50.0  # backlog messages per second on reconnect
    max_inflight: int = 20  # backlog messages awaiting PUBACK at once
    keepalive: int = 30


class BootstrapError(ValueError):
    pass


def load(path: str | Path) -> Bootstrap:
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BootstrapError(f"{path}: {exc}") from None
    try:
        broker, tls, outbox = data["broker"], data["tls"], data["outbox"]
        serial = Serial(**data.get("serial", {}))
        if serial.parity not in ("N", "E", "O"):
            raise BootstrapError("serial.parity must be N, E or O")
        modbus = data.get("modbus", {})
        return Bootstrap(
            broker_host=broker["host"],
            broker_port=int(broker.get("port", 8883)),
            ca_file=tls["ca_file"],
            cert_file=tls["cert_file"],
            key_file=tls["key_file"],
            outbox_path=outbox["path"],
            outbox_max_messages=int(outbox.get("max_messages", 100_000)),
            outbox_max_age_days=float(outbox.get("max_age_days", 7)),
            drain_rate=float(outbox.get("drain_rate", 50)),
            max_inflight=int(outbox.get("max_inflight", 20)),
            serial=serial,
            modbus_timeout=float(modbus.get("timeout", 0.5)),
            keepalive=int(broker.get("keepalive", 30)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BootstrapError(f"{path}: missing or bad setting {exc}") from None

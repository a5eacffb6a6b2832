"""Polling meters with pymodbus's synchronous clients: one client per bus (the RS-485
port, or one Modbus TCP endpoint), each bus polled by its own thread, devices on a bus
one after the other (a serial bus carries one request at a time anyway).

Errors are classified for the diagnostics: `timeouts` (no answer, or no connection),
`crc` (bytes came back but no valid frame: a garbled RTU frame fails its CRC and pymodbus
drops it), `excecoes` (the meter answered with a Modbus exception code) and `invalidos`
(a float register holding NaN or infinity).
"""

import contextlib
import logging
from dataclasses import dataclass

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from .decode import decode, engineering_value, registers_needed

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # we count and report errors
ERROR_KINDS = ("timeouts", "crc", "excecoes", "invalidos")


@dataclass
class Result:
    codigo: str
    value: object = None  # Decimal when ok
    error: str | None = None  # one of ERROR_KINDS
    detail: str = ""


class Bus:
    """One Modbus connection. `key` is "serial" or "tcp:host:port"."""

    def __init__(self, key: str, client):
        self.key = key
        self.client = client
        self._rx = 0

    @classmethod
    def tcp(cls, host: str, port: int, *, timeout: float) -> "Bus":
        bus = cls(f"tcp:{host}:{port}", None)
        bus.client = ModbusTcpClient(
            host, port=port, timeout=timeout, retries=0, trace_packet=bus._trace
        )
        return bus

    @classmethod
    def serial(cls, serial, *, timeout: float) -> "Bus":
        bus = cls("serial", None)
        bus.client = ModbusSerialClient(
            serial.port,
            framer=FramerType.RTU,
            baudrate=serial.baudrate,
            bytesize=serial.bytesize,
            parity=serial.parity,
            stopbits=serial.stopbits,
            timeout=timeout,
            retries=0,
            trace_packet=bus._trace,
        )
        return bus

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self._rx += len(data)
        return data

    def read(self, dev: dict) -> Result:
        count = registers_needed(dev["tipo_dado"])
        fn = (
            self.client.read_input_registers
            if dev["funcao"] == "input"
            else self.client.read_holding_registers
        )
        self._rx = 0
        try:
            rr = fn(dev["registrador"], count=count, device_id=dev["slave_id"])
        except ModbusException as exc:
            kind = "crc" if self._rx else "timeouts"
            return Result(dev["codigo"], error=kind, detail=str(exc)[:200])
        except OSError as exc:
            return Result(dev["codigo"], error="timeouts", detail=str(exc)[:200])
        except Exception as exc:  # a bug or a frame pymodbus could not handle: report it
            return Result(dev["codigo"], error="excecoes", detail=repr(exc)[:200])
        if rr.isError():
            code = getattr(rr, "exception_code", None)
            return Result(dev["codigo"], error="excecoes", detail=f"exception code {code}")
        regs = list(rr.registers)
        if len(regs) < count:
            return Result(dev["codigo"], error="crc", detail=f"{len(regs)} registers")
        value = engineering_value(
            decode(regs, dev["tipo_dado"], dev["ordem_palavras"]), dev["fator"]
        )
        if value is None:
            return Result(dev["codigo"], error="invalidos", detail="NaN/infinity")
        return Result(dev["codigo"], value=value)

    def poll(self, devices: list[dict]) -> list[Result]:
        return [self.read(d) for d in devices]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken client
            self.client.close()


def bus_key(dev: dict) -> str:
    return f"tcp:{dev['host']}:{dev['porta']}" if dev["host"] else "serial"

"""Simulated Modbus meters for tests and benchmarks: pymodbus's own server, over TCP on a
free loopback port or over RTU on one end of a pseudo-terminal pair (socat), each in a
thread with its own event loop."""

import asyncio
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from .mosquitto import free_port

FUNCTION_CODE = {"holding": 3, "input": 4}
REGISTERS = 1000  # per block; an address past it answers "illegal data address"


class MeterServer:
    """Meters `slave_ids` behind one Modbus TCP endpoint or one serial port."""

    def __init__(self, *, slave_ids, serial_port: str | None = None, port: int | None = None):
        self.devices = {
            s: ModbusDeviceContext(
                hr=ModbusSequentialDataBlock(0, [0] * (REGISTERS + 1)),
                ir=ModbusSequentialDataBlock(0, [0] * (REGISTERS + 1)),
            )
            for s in slave_ids
        }
        self.context = ModbusServerContext(devices=self.devices, single=False)
        self.serial_port = serial_port
        self.port = None if serial_port else (port or free_port())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    def set(self, slave: int, address: int, words: list[int], *, funcao: str = "holding"):
        self.devices[slave].setValues(FUNCTION_CODE[funcao], address, list(words))

    def start(self) -> "MeterServer":
        ready = threading.Event()

        async def serve():
            if self.serial_port:
                self._server = ModbusSerialServer(
                    self.context,
                    framer=FramerType.RTU,
                    port=self.serial_port,
                    baudrate=115200,
                    ignore_missing_devices=True,
                )
            else:
                self._server = ModbusTcpServer(
                    self.context, address=("127.0.0.1", self.port), ignore_missing_devices=True
                )
            await self._server.serve_forever(background=True)

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            loop.run_until_complete(serve())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="meters", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("meter server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
        fut.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None


class PtyPair:
    """Two linked pseudo-terminals (socat): a meter server on one end, the agent on the
    other, as on an RS-485 bus."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="tds-pty-"))
        self.meter_end = str(self.dir / "meter")
        self.agent_end = str(self.dir / "agent")
        self.proc = subprocess.Popen(
            [
                "socat",
                f"pty,raw,echo=0,link={self.meter_end}",
                f"pty,raw,echo=0,link={self.agent_end}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (Path(self.meter_end).exists() and Path(self.agent_end).exists()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("socat did not create the pty pair")
            time.sleep(0.05)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

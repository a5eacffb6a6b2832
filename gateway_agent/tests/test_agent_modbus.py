"""Polling real Modbus servers: pymodbus's own server over TCP and over RTU on a
pseudo-terminal pair, and a garbling meter on a pty for the CRC count."""

import threading
from decimal import Decimal

import pytest
import serial
from tds_gateway.bootstrap import Serial
from tds_gateway.decode import encode
from tds_gateway.modbus import Bus

from tds_testing.meters import MeterServer, PtyPair


def _dev(**kw):
    d = {
        "codigo": "D01",
        "slave_id": 1,
        "registrador": 0,
        "funcao": "holding",
        "tipo_dado": "uint16",
        "ordem_palavras": "big",
        "fator": Decimal(1),
    }
    d.update(kw)
    return d


@pytest.fixture
def tcp_meter():
    m = MeterServer(slave_ids=[1]).start()
    yield m
    m.stop()


def test_tcp_types_functions_and_errors(tcp_meter):
    tcp_meter.set(1, 10, encode(-70_000, "int32", "little"))
    tcp_meter.set(1, 3, encode(2.5, "float32"), funcao="input")
    bus = Bus.tcp("127.0.0.1", tcp_meter.port, timeout=0.3)
    try:
        r = bus.read(
            _dev(registrador=10, tipo_dado="int32", ordem_palavras="little", fator=Decimal("0.001"))
        )
        assert r.value == Decimal("-70.000")
        r = bus.read(_dev(registrador=3, tipo_dado="float32", funcao="input"))
        assert r.value == Decimal("2.5")
        # An address the meter does not have: a Modbus exception answer.
        assert bus.read(_dev(registrador=5000)).error == "excecoes"
        # A unit id nobody answers to: a timeout.
        assert bus.read(_dev(slave_id=9)).error == "timeouts"
        tcp_meter.stop()
        assert bus.read(_dev()).error == "timeouts"
    finally:
        bus.close()


def test_rtu_on_a_pty_pair():
    pty = PtyPair()
    meter = MeterServer(slave_ids=[5], serial_port=pty.meter_end).start()
    bus = Bus.serial(Serial(port=pty.agent_end, baudrate=115200), timeout=0.3)
    try:
        meter.set(5, 7, encode(4_000_000_000, "uint32"))
        r = bus.read(_dev(slave_id=5, registrador=7, tipo_dado="uint32", fator=Decimal("0.5")))
        assert r.value == Decimal(2_000_000_000)
        assert bus.read(_dev(slave_id=6)).error == "timeouts"
    finally:
        bus.close()
        meter.stop()
        pty.close()


def test_a_garbled_answer_counts_as_crc():
    """A meter on the bus answers with a frame whose CRC is wrong (noise on RS-485)."""
    pty = PtyPair()
    port = serial.Serial(pty.meter_end, 115200, timeout=2)
    stop = threading.Event()

    def garbling_meter():
        while not stop.is_set():
            request = port.read(8)
            if len(request) == 8:
                # slave 1, function 3, 2 bytes, value 0x002A, then a wrong CRC.
                port.write(bytes([1, 3, 2, 0, 42, 0xDE, 0xAD]))

    t = threading.Thread(target=garbling_meter, daemon=True)
    t.start()
    bus = Bus.serial(Serial(port=pty.agent_end, baudrate=115200), timeout=0.3)
    try:
        r = bus.read(_dev())
        assert r.error == "crc", r
    finally:
        stop.set()
        bus.close()
        t.join(3)
        port.close()
        pty.close()

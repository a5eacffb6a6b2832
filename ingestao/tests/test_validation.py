"""Wire-format validation: every reason code, MAC variants, raw × fator."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from ingestao.registry import DeviceEntry, GatewayEntry
from ingestao.validation import parse_telemetry
from tds_core.wire import topic_parts

MAC = "aa:bb:cc:dd:ee:ff"
NOW = dt.datetime(2026, 2, 18, 15, 0, tzinfo=dt.UTC)
GW = GatewayEntry(
    id=7,
    conta_id=3,
    mac=MAC,
    is_active=True,
    devices={
        "D01": DeviceEntry(11, "D01", Decimal(1), "kWh", True),
        "D02": DeviceEntry(12, "D02", Decimal("0.01"), "m³", True),
        "D03": DeviceEntry(13, "D03", Decimal(1), "°C", False),
    },
)


def msg(**fields):
    data = {
        "gateway_mac": MAC,
        "timestamp": "2026-02-18T14:30:00Z",
        "leituras": [{"dispositivo_codigo": "D01", "valor": 123.45, "unidade": "kWh"}],
    }
    data.update(fields)
    return json.dumps(data).encode()


def parse(payload, gateway=GW, topic_mac=MAC):
    return parse_telemetry(topic_mac=topic_mac, payload=payload, gateway=gateway, now=NOW)


def test_contract_example_valor_and_raw():
    out = parse(
        msg(
            leituras=[
                {"dispositivo_codigo": "D01", "valor": 123.45, "unidade": "kWh"},
                {"dispositivo_codigo": "D02", "raw": 12345},
            ]
        )
    )
    assert out.reason is None
    r1, r2 = out.rows
    assert (r1.valor, r1.unidade, r1.dispositivo_id, r1.conta_id, r1.gateway_id) == (
        Decimal("123.45"),
        "kWh",
        11,
        3,
        7,
    )
    assert r1.time == dt.datetime(2026, 2, 18, 14, 30, tzinfo=dt.UTC)
    assert (r2.valor, r2.unidade, r2.payload_raw) == (
        Decimal("123.45"),
        "m³",
        {"raw": 12345, "fator": "0.01"},
    )


@pytest.mark.parametrize("variant", ["AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "AABBCCDDEEFF"])
def test_mac_variants_accepted(variant):
    assert parse(msg(gateway_mac=variant)).reason is None


def test_offset_timestamp_accepted():
    out = parse(msg(timestamp="2026-02-18T11:30:00-03:00"))
    assert out.rows[0].time == dt.datetime(2026, 2, 18, 14, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe not utf8", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "schema"),
        (msg(gateway_mac=None), "schema"),
        (msg(leituras="x"), "schema"),
        (msg(leituras=[]), "schema"),
        (msg(leituras=[{"dispositivo_codigo": "D01"}]), "schema"),
        (msg(leituras=[{"dispositivo_codigo": "D01", "valor": "1"}]), "schema"),
        (msg(leituras=[{"dispositivo_codigo": "D01", "valor": True}]), "schema"),
        (msg(leituras=[{"dispositivo_codigo": "D01", "valor": 1, "raw": 1}]), "schema"),
        (msg(leituras=[{"dispositivo_codigo": "D02", "raw": 1.5}]), "schema"),
        (msg(leituras=[{"dispositivo_codigo": "D01", "valor": 1, "unidade": "x" * 17}]), "schema"),
        (b"x" * 70000, "too_large"),
        (msg(leituras=[{"dispositivo_codigo": "D01", "valor": 1}] * 65), "too_many_readings"),
        (msg(timestamp="2026-02-18T14:30:00"), "bad_timestamp"),
        (msg(timestamp="ontem"), "bad_timestamp"),
        (msg(timestamp="1970-01-01T00:00:00Z"), "bad_timestamp"),
        (msg(timestamp=1739889000), "schema"),
        (msg(timestamp="2026-02-18T16:00:00Z"), "future_timestamp"),
        (msg(leituras=[{"dispositivo_codigo": "D01", "valor": 1e11}]), "bad_value"),
        (msg(leituras=[{"dispositivo_codigo": "D02", "raw": 10**25}]), "bad_value"),
        (msg().replace(b"123.45", b"NaN"), "bad_value"),
        (msg().replace(b"123.45", b"-Infinity"), "bad_value"),
        (msg(gateway_mac="aa:bb:cc:dd:ee:00"), "mac_mismatch"),
    ],
)
def test_rejections(payload, reason):
    out = parse(payload)
    assert out.reason == reason, out.detail
    assert out.rows == []
    assert out.detail


def test_unknown_and_inactive_gateway():
    assert parse(msg(), gateway=None).reason == "unknown_gateway"
    assert parse(msg(), gateway=GW._replace(is_active=False)).reason == "inactive_gateway"
    assert parse(msg(), topic_mac=None).reason == "unknown_gateway"


def test_unknown_device_keeps_the_other_readings():
    out = parse(
        msg(
            leituras=[
                {"dispositivo_codigo": "D01", "valor": 1},
                {"dispositivo_codigo": "D99", "valor": 2},
                {"dispositivo_codigo": "D03", "valor": 3},  # inactive device
            ]
        )
    )
    assert out.reason == "unknown_device"
    assert "D99" in out.detail
    assert "D03" in out.detail
    assert [r.dispositivo_id for r in out.rows] == [11]


def test_topic_parts():
    assert topic_parts("tds_new/devices/AA-BB-CC-DD-EE-FF/telemetry") == (MAC, "telemetry")
    assert topic_parts(f"tds_new/devices/{MAC}/status") == (MAC, "status")
    assert topic_parts("other/x") == (None, None)
    assert topic_parts("tds_new/devices/zz/telemetry") == (None, "telemetry")

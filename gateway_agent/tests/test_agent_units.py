"""The agent's pure parts: register decoding and the outbox's bounds."""

from decimal import Decimal

import pytest
from tds_gateway import wire
from tds_gateway.decode import decode, encode, engineering_value
from tds_gateway.outbox import Outbox


@pytest.mark.parametrize(
    ("tipo", "ordem", "value"),
    [
        ("uint16", "big", 65535),
        ("int16", "big", -2),
        ("uint32", "big", 4_000_000_000),
        ("uint32", "little", 70_000),
        ("int32", "big", -70_000),
        ("int32", "little", -1),
        ("float32", "big", 1234.5),
        ("float32", "little", -0.25),
    ],
)
def test_decode_round_trips_each_type_and_word_order(tipo, ordem, value):
    assert decode(encode(value, tipo, ordem), tipo, ordem) == value


def test_word_order_reads_the_words_as_the_meter_sends_them():
    # 70,000 = 0x0001_1170: ABCD sends [0x0001, 0x1170], CDAB sends [0x1170, 0x0001].
    assert decode([0x0001, 0x1170], "uint32", "big") == 70_000
    assert decode([0x1170, 0x0001], "uint32", "little") == 70_000
    assert decode([0x0001, 0x1170], "uint32", "little") == 0x1170_0001


def test_factor_is_exact_and_nan_is_refused():
    assert engineering_value(12345, Decimal("0.01")) == Decimal("123.45")
    assert wire.reading_value(engineering_value(12345, Decimal("0.01"))) == 123.45
    assert engineering_value(float("nan"), Decimal(1)) is None


def test_outbox_drops_oldest_past_its_bound_and_counts_them(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3", max_messages=3)
    ids = [box.add([("t", f"m{i}".encode())])[0] for i in range(5)]
    assert len(box) == 3
    assert [r[2] for r in box.oldest(10)] == [b"m2", b"m3", b"m4"]
    assert box.dropped == 2
    box.delete(ids[2:4])
    assert [r[2] for r in box.oldest(10)] == [b"m4"]
    box.close()
    again = Outbox(tmp_path / "o.sqlite3", max_messages=3)
    assert len(again) == 1
    assert again.dropped == 2


def test_outbox_drops_messages_past_their_age(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3", max_age=60)
    box.add([("t", b"old")], now=1000.0)
    box.add([("t", b"new")], now=1100.0)
    assert [r[2] for r in box.oldest(10)] == [b"new"]
    assert box.dropped == 1


def test_telemetry_is_split_under_the_consumers_reading_limit():
    leituras = [{"dispositivo_codigo": f"D{i:03d}", "valor": i} for i in range(120)]
    payloads = wire.telemetry_payloads(mac="aa:bb:cc:dd:ee:ff", t=1700000000.0, leituras=leituras)
    assert len(payloads) == 3
    assert b'"timestamp":"2023-11-14T22:13:20Z"' in payloads[0]

"""Fuzzing: arbitrary and mutated payloads never crash the validation or the consumer,
and every message ends stored or dead-lettered."""

import datetime as dt
import json
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingestao.models import ContagemRejeicoes, MensagemRejeitada
from ingestao.registry import load_gateways
from ingestao.validation import Outcome, _parse, _parse_fast, parse_telemetry
from tds_core.wire import topic_parts
from tds_testing.waiting import wait_for
from telemetria.models import LeituraDispositivo

from .helpers import (
    Publisher,
    count_readings,
    start_consumer,
    stop,
    telemetry_topic,
    wait_connected,
)
from .test_validation import GW, MAC

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def valid(mac, i=0, codigos=("D01", "D02")):
    return {
        "gateway_mac": mac,
        "timestamp": (NOW + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        "leituras": [{"dispositivo_codigo": c, "valor": 1.5 + i} for c in codigos],
    }


@st.composite
def payloads(draw, mac=MAC, codigos=("D01", "D02")):
    kind = draw(st.sampled_from(["binary", "field", "reading", "bytes", "valid"]))
    base = valid(mac, draw(st.integers(0, 10_000)), codigos)
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "field":
        base[draw(st.sampled_from(["gateway_mac", "timestamp", "leituras", "extra"]))] = draw(
            json_values
        )
    elif kind == "reading":
        reading = base["leituras"][0]
        reading[draw(st.sampled_from(["dispositivo_codigo", "valor", "raw", "unidade"]))] = draw(
            json_values
        )
    data = json.dumps(base).encode()
    if kind == "bytes":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        data = bytes(data)
    return data


@given(payloads())
@settings(max_examples=400, deadline=None)
def test_validation_never_raises_and_always_decides(data):
    out = parse_telemetry(topic_mac=MAC, payload=data, gateway=GW, now=NOW)
    assert out.rows or out.reason
    if out.reason and out.reason != "unknown_device":
        assert out.rows == []
    for row in out.rows:
        assert row.time.tzinfo is not None
        assert row.valor.is_finite()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@given(st.lists(payloads(), min_size=40, max_size=80))
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
def test_running_consumer_stores_or_dead_letters_every_message(fuzz_env, messages):
    broker, planta, _log = fuzz_env
    gw = planta["gateway"]
    # Rows and the per-gateway hourly counts (past TDS_DEAD_LETTER_MAX_PER_HOUR rejects
    # are only counted): each example starts from none.
    MensagemRejeitada.objects.all().delete()
    ContagemRejeicoes.objects.all().delete()
    ids = [d.pk for d in planta["devices"]]
    before = count_readings(ids)
    previous = stored_keys(ids)
    entry = load_gateways()[gw.mac]
    mac, _ = topic_parts(telemetry_topic(gw.mac))
    now = dt.datetime.now(tz=dt.UTC)
    expected_rows, expected_dead = set(), 0
    for data in messages:
        out = parse_telemetry(topic_mac=mac, payload=data, gateway=entry, now=now)
        expected_rows |= {(r.dispositivo_id, r.time) for r in out.rows}
        expected_dead += 1 if out.reason else 0
    pub = Publisher(broker.port, client_id=f"fuzz-{time.monotonic_ns()}")
    for data in messages:
        pub.publish(telemetry_topic(gw.mac), data)
    pub.close()

    def stored():
        return set(
            LeituraDispositivo.objects.filter(dispositivo_id__in=ids).values_list(
                "dispositivo_id", "time"
            )
        )

    assert wait_for(
        lambda: MensagemRejeitada.objects.count() >= expected_dead and expected_rows <= stored(),
        timeout=20,
    )
    time.sleep(0.5)
    # Every message: its readings stored, or a dead letter (or both for unknown devices).
    assert MensagemRejeitada.objects.count() == expected_dead
    assert expected_rows <= stored()
    # Nothing stored that the validation would not have accepted (earlier examples' rows
    # are the only others).
    assert count_readings(ids) - before == len(expected_rows - previous)


@pytest.fixture
def fuzz_env(mosquitto, planta, tmp_path):
    log = tmp_path / "consumer.log"
    proc = start_consumer(mosquitto.port, log_path=log)
    wait_connected(log)
    yield mosquitto, planta, log
    assert stop(proc) == 0
    assert "Traceback" not in log.read_text()


def stored_keys(ids):
    return set(
        LeituraDispositivo.objects.filter(dispositivo_id__in=ids).values_list(
            "dispositivo_id", "time"
        )
    )


# -- the fast path (msgspec) against the reference path -----------------------------------
def _both(data: bytes):
    fast = Outcome(gateway=GW)
    if not _parse_fast(fast, MAC, data, GW, NOW):
        return None, None
    reference = Outcome(gateway=GW)
    _parse(reference, MAC, data, GW, NOW)  # raises Rejected if it would refuse the message
    return fast, reference


def test_the_fast_path_takes_the_usual_message():
    message = valid(MAC, 7)
    message["leituras"].append({"dispositivo_codigo": "D02", "raw": 12345, "unidade": "L"})
    fast, reference = _both(json.dumps(message).encode())
    assert reference.reason is None
    assert fast is not None, "the usual message fell back to the reference path"
    assert len(fast.rows) == 3
    assert fast.rows == reference.rows


def _one_reading(reading: bytes) -> bytes:
    return b'{"gateway_mac": "%s", "timestamp": "2026-03-01T12:00:00Z", "leituras": [%s]}' % (
        MAC.encode(),
        reading,
    )


@given(payloads())
@example(_one_reading(b'{"dispositivo_codigo": "D01", "valor": 1e400}'))
@example(_one_reading(b'{"dispositivo_codigo": "D01", "valor": 2, "unidade": "\\ud800"}'))
@example(_one_reading(b'{"dispositivo_codigo": "D01", "valor": 2, "unidade": "k\xffh"}'))
@example(_one_reading(b'{"dispositivo_codigo": "D01", "raw": 99999999999999999999999}'))
@example(_one_reading(b'{"dispositivo_codigo": "D01", "valor": 1.50, "valor": -0.0}'))
@example(_one_reading(b'{"dispositivo_codigo": "D01", "valor": 1, "k\x80": 2}'))
@settings(max_examples=1500, deadline=None)
def test_the_fast_path_only_ever_produces_what_the_reference_path_does(data):
    fast, reference = _both(data)
    if fast is None:
        return
    assert reference.reason is None
    assert [repr(row) for row in fast.rows] == [repr(row) for row in reference.rows]
    assert [(d.id, repr(r)) for d, r in fast.readings] == [
        (d.id, repr(r)) for d, r in reference.readings
    ]

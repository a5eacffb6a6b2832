"""IngestWorker.consume_batch in-process: one transaction per batch, dead letters,
gateway status, live events after commit."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from dispositivos.models import Gateway
from ingestao.models import MensagemRejeitada
from tds_core.live import live_channel
from telemetria.models import LeituraDispositivo

from .helpers import payload, received, telemetry_topic

pytestmark = pytest.mark.django_db


def test_batch_stores_readings_touches_gateway_and_dead_letters(
    worker, planta, django_capture_on_commit_callbacks
):
    gw, (d1, d2, _d3) = planta["gateway"], planta["devices"]
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    good = payload(
        gw.mac.upper(),
        now,
        [
            {"dispositivo_codigo": "D01", "valor": 10.5},
            {"dispositivo_codigo": "D02", "raw": 250},
            {"dispositivo_codigo": "D77", "valor": 1},
        ],
    )
    batch = [
        received(telemetry_topic(gw.mac), good, 1),
        received(telemetry_topic(gw.mac), b"\xff garbage", 2),
        received(telemetry_topic("02:00:00:00:99:99"), payload("02:00:00:00:99:99", now, []), 3),
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = worker.consume_batch(batch)

    assert result.inserted == 2
    rows = {r.dispositivo_id: r for r in LeituraDispositivo.objects.all()}
    assert rows[d1.pk].valor == Decimal("10.5")
    assert rows[d1.pk].time == now
    assert rows[d2.pk].valor == Decimal("2.5")  # raw 250 × 0.01
    assert rows[d2.pk].unidade == "kWh"
    gw.refresh_from_db()
    assert gw.is_online
    assert gw.last_seen is not None
    dead = {m.motivo: m for m in MensagemRejeitada.objects.all()}
    assert set(dead) == {"unknown_device", "not_utf8", "unknown_gateway"}
    assert dead["unknown_device"].conta_id == gw.conta_id
    assert "D77" in dead["unknown_device"].detalhe
    assert bytes(dead["not_utf8"].payload) == b"\xff garbage"
    assert dead["not_utf8"].gateway_id == gw.pk
    assert dead["unknown_gateway"].conta_id is None
    assert len(callbacks) == 1
    assert worker.metrics.rejects == {"unknown_device": 1, "not_utf8": 1, "unknown_gateway": 1}

    # Redelivery of the same message: nothing new, counted as duplicates.
    again = worker.consume_batch([batch[0]])
    assert (again.inserted, again.duplicates) == (0, 2)
    assert LeituraDispositivo.objects.count() == 2


def test_status_topic_updates_gateway_and_pushes_live_event(
    worker, planta, django_capture_on_commit_callbacks
):
    gw = planta["gateway"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(live_channel(gw.conta_id))
    topic = f"tds_new/devices/{gw.mac}/status"
    with django_capture_on_commit_callbacks(execute=True):
        worker.consume_batch([received(topic, b"online")])
    gw.refresh_from_db()
    assert gw.is_online
    with django_capture_on_commit_callbacks(execute=True):
        worker.consume_batch([received(topic, b"offline")])
    gw.refresh_from_db()
    assert not gw.is_online
    events = []
    deadline = time.monotonic() + 3
    while len(events) < 2 and time.monotonic() < deadline:
        m = sub.get_message(timeout=0.5)
        if m:
            events.append(json.loads(m["data"]))
    assert [(e["type"], e["gateway_id"], e["is_online"]) for e in events] == [
        ("gateway_status", gw.pk, True),
        ("gateway_status", gw.pk, False),
    ]
    worker.consume_batch([received(topic, b"maybe")])
    assert MensagemRejeitada.objects.get().motivo == "bad_status"


def test_readings_live_event_per_account(worker, planta, django_capture_on_commit_callbacks):
    gw = planta["gateway"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(live_channel(gw.conta_id))
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    data = payload(gw.mac, now, [{"dispositivo_codigo": "D01", "valor": 7}])
    with django_capture_on_commit_callbacks(execute=True):
        worker.consume_batch([received(telemetry_topic(gw.mac), data)])
    event = None
    deadline = time.monotonic() + 3
    while event is None and time.monotonic() < deadline:
        m = sub.get_message(timeout=0.5)
        if m:
            event = json.loads(m["data"])
            if event["type"] != "readings":
                event = None
    assert event["readings"][0]["dispositivo_codigo"] == "D01"
    assert event["readings"][0]["valor"] == "7.0000"  # as numeric(15, 4) stores it


def test_inactive_gateway_is_rejected_and_not_touched(worker, planta):
    gw = planta["gateway"]
    Gateway.objects.filter(pk=gw.pk).update(is_active=False)
    worker.registry.reload()
    now = dt.datetime.now(tz=dt.UTC)
    worker.consume_batch(
        [
            received(
                telemetry_topic(gw.mac),
                payload(gw.mac, now, [{"dispositivo_codigo": "D01", "valor": 1}]),
            )
        ]
    )
    gw.refresh_from_db()
    assert not gw.is_online
    assert gw.last_seen is None
    assert MensagemRejeitada.objects.get().motivo == "inactive_gateway"
    assert LeituraDispositivo.objects.count() == 0

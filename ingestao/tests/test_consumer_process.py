"""The consumer as a real process against a private broker: delivery under faults."""

import datetime as dt
import signal
import threading
import time

import pytest

from ingestao.models import MensagemRejeitada
from tds_testing import factories
from tds_testing.waiting import wait_for

from .helpers import (
    Publisher,
    count_readings,
    duplicate_keys,
    payload,
    start_consumer,
    stop,
    telemetry_topic,
    wait_connected,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def stream(pub, gateway, devices, n, *, start=0, pause=0.0):
    """n messages, each with one reading per device, one second apart in data time."""
    for i in range(start, start + n):
        leituras = [{"dispositivo_codigo": d.codigo, "valor": 1000 + i} for d in devices]
        pub.publish(
            telemetry_topic(gateway.mac),
            payload(gateway.mac, T0 + dt.timedelta(seconds=i), leituras),
        )
        if pause:
            time.sleep(pause)


def test_stores_and_survives_kill_9(mosquitto, planta, logfile):
    gw, devices = planta["gateway"], planta["devices"]
    ids = [d.pk for d in devices]
    proc = start_consumer(mosquitto.port, log_path=logfile)
    wait_connected(logfile)
    pub = Publisher(mosquitto.port)
    n = 600
    feeder = threading.Thread(target=stream, args=(pub, gw, devices, n), kwargs={"pause": 0.003})
    feeder.start()
    assert wait_for(lambda: count_readings(ids) > 0, timeout=20)
    proc.send_signal(signal.SIGKILL)  # mid-stream
    proc.wait()
    feeder.join()
    pub.flush()
    stored_at_kill = count_readings(ids)
    assert 0 < stored_at_kill < n * 3, "the kill did not happen mid-stream"

    proc = start_consumer(mosquitto.port, log_path=logfile)
    try:
        assert wait_for(lambda: count_readings(ids) == n * 3, timeout=30), count_readings(ids)
        time.sleep(1)  # nothing more arrives (no duplicate can sneak in later either)
        assert count_readings(ids) == n * 3
        assert duplicate_keys(ids) == 0
    finally:
        assert stop(proc) == 0
        pub.close()
    assert not MensagemRejeitada.objects.exists()


def test_sigterm_flushes_acks_and_exits_0(mosquitto, planta, logfile):
    gw, devices = planta["gateway"], planta["devices"]
    ids = [d.pk for d in devices]
    # A long batch wait: the readings are still in memory when SIGTERM arrives.
    proc = start_consumer(mosquitto.port, log_path=logfile, extra=["--batch-wait-ms", "3000"])
    wait_connected(logfile)
    pub = Publisher(mosquitto.port)
    stream(pub, gw, devices, 50)
    pub.flush()
    time.sleep(0.5)
    assert count_readings(ids) == 0
    started = time.monotonic()
    assert stop(proc) == 0
    assert time.monotonic() - started < 5
    assert count_readings(ids) == 150  # flushed and committed on the way out

    # Acked too: a restart with the same session gets nothing redelivered.
    proc = start_consumer(mosquitto.port, log_path=logfile)
    wait_connected(logfile)
    time.sleep(2)
    assert stop(proc) == 0
    last_stats = [ln for ln in logfile.read_text().splitlines() if "event=ingest_stats" in ln][-1]
    assert " messages=" not in last_stats, last_stats  # no message at all in the 2nd run
    assert count_readings(ids) == 150


def test_broker_restart_mid_stream_loses_nothing(mosquitto, planta, logfile):
    gw, devices = planta["gateway"], planta["devices"]
    ids = [d.pk for d in devices]
    proc = start_consumer(mosquitto.port, log_path=logfile)
    wait_connected(logfile)
    pub = Publisher(mosquitto.port)
    stream(pub, gw, devices, 200)
    pub.flush()
    mosquitto.restart()  # persistence on: queued messages and sessions survive
    # What was queued or unacked before the restart is kept; then a new publisher once the
    # consumer is back (test_broker_restart.py covers publishing during the restart).
    assert wait_for(lambda: logfile.read_text().count("event=mqtt_subscribed") >= 2, timeout=15)
    pub2 = Publisher(mosquitto.port, client_id="test-publisher-2")
    stream(pub2, gw, devices, 200, start=200)
    pub2.flush()
    try:
        assert wait_for(lambda: count_readings(ids) == 1200, timeout=30), count_readings(ids)
        assert duplicate_keys(ids) == 0
    finally:
        assert stop(proc) == 0
        pub2.close()


def test_registry_change_reaches_running_consumer(mosquitto, planta, logfile):
    gw = planta["gateway"]
    proc = start_consumer(mosquitto.port, log_path=logfile)
    wait_connected(logfile)
    pub = Publisher(mosquitto.port)
    try:
        late = [{"dispositivo_codigo": "D09", "valor": 5}]
        pub.publish(telemetry_topic(gw.mac), payload(gw.mac, T0, late))
        pub.flush()
        assert wait_for(lambda: MensagemRejeitada.objects.filter(motivo="unknown_device").exists())
        novo = factories.make_dispositivo(gateway=gw, codigo="D09", slave_id=9)  # the UI's service
        time.sleep(1.5)  # the change notice travels over Redis
        pub.publish(telemetry_topic(gw.mac), payload(gw.mac, T0 + dt.timedelta(seconds=1), late))
        pub.flush()
        assert wait_for(lambda: count_readings([novo.pk]) == 1, timeout=10)
    finally:
        assert stop(proc) == 0
        pub.close()


def test_two_consumers_split_the_shared_subscription(mosquitto, planta, tmp_path):
    gw, devices = planta["gateway"], planta["devices"]
    ids = [d.pk for d in devices]
    logs = [tmp_path / "c1.log", tmp_path / "c2.log"]
    procs = [
        start_consumer(
            mosquitto.port,
            client_id=f"tds-ingest-test-{i}",
            log_path=logs[i],
            extra=["--shared", "--gateways-retry-v5"],
        )
        for i in range(2)
    ]
    for log in logs:
        wait_connected(log)
    pub = Publisher(mosquitto.port)
    stream(pub, gw, devices, 400, pause=0.001)
    pub.flush()
    try:
        assert wait_for(lambda: count_readings(ids) == 1200, timeout=30), count_readings(ids)
        assert duplicate_keys(ids) == 0
    finally:
        for p in procs:
            assert stop(p) == 0
        pub.close()
    stored = []
    for log in logs:
        line = [ln for ln in log.read_text().splitlines() if "event=ingest_stats" in ln][-1]
        stored.append(int(line.split(" stored=")[1].split()[0]))
    assert all(s > 0 for s in stored), stored  # both took work
    assert sum(stored) == 1200  # the union is complete, nothing stored twice


def test_mqtt_311_plain_subscription(mosquitto, planta, logfile):
    gw, devices = planta["gateway"], planta["devices"]
    ids = [d.pk for d in devices]
    proc = start_consumer(mosquitto.port, log_path=logfile, extra=["--protocol", "v311"])
    wait_connected(logfile)
    pub = Publisher(mosquitto.port)
    stream(pub, gw, devices, 20)
    pub.publish(f"tds_new/devices/{gw.mac}/status", b"online", retain=True)
    pub.flush()
    try:
        assert wait_for(lambda: count_readings(ids) == 60, timeout=15), count_readings(ids)
    finally:
        assert stop(proc) == 0
        pub.close()
    gw.refresh_from_db()
    assert gw.is_online

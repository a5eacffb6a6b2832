"""The ingest consumer as real processes against a private broker: alarms from
committed readings, no twins from two consumers, a correct state after kill -9."""

import datetime as dt
import signal
import threading
import time
from decimal import Decimal

import pytest

from alarmes import services
from alarmes.models import Alarme, TransicaoAlarme
from ingestao.tests.helpers import (
    Publisher,
    count_readings,
    payload,
    start_consumer,
    stop,
    telemetry_topic,
    wait_connected,
)
from tds_testing import factories
from tds_testing.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HIGH = range(100, 400)  # seconds of the stream above the limit


@pytest.fixture
def planta(conta_a, clean_store):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-ALM")
    devices = [
        factories.make_dispositivo(gateway=gw, codigo=f"T{i}", tipo="TEMP") for i in range(1, 4)
    ]
    regra = services.regra_create(
        conta=conta_a, nome="Quente", tipo="limite", gateway=gw,
        limite_superior=Decimal(50), histerese=Decimal(5),
    )  # fmt: skip
    return {"gateway": gw, "devices": devices, "regra": regra}


def stream(pub, gateway, devices, n, *, pause=0.0):
    """One message per second of data time with a reading per device: 20 degrees, 60
    during HIGH (above the limit of 50), then 20 again (past the hysteresis)."""
    for i in range(n):
        valor = 60 if i in HIGH else 20
        leituras = [{"dispositivo_codigo": d.codigo, "valor": valor} for d in devices]
        pub.publish(
            telemetry_topic(gateway.mac),
            payload(gateway.mac, T0 + dt.timedelta(seconds=i), leituras),
        )
        if pause:
            time.sleep(pause)


def assert_one_alarm_fired_and_cleared_per_device(regra, devices):
    for d in devices:
        (a,) = Alarme.objects.filter(regra=regra, dispositivo=d)
        assert (a.estado, a.inicio, a.fim) == (
            "encerrado",
            T0 + dt.timedelta(seconds=HIGH.start),
            T0 + dt.timedelta(seconds=HIGH.stop),
        )
        assert [t.tipo for t in a.transicoes.all()] == ["disparo", "encerramento"]


def test_two_consumers_on_one_stream_make_one_alarm(mosquitto, planta, tmp_path):
    gw, devices, regra = planta["gateway"], planta["devices"], planta["regra"]
    ids = [d.pk for d in devices]
    logs = [tmp_path / "c1.log", tmp_path / "c2.log"]
    # Both consumers receive every message (plain subscriptions): each evaluates every
    # reading, at the same time; only the database's partial unique index keeps one.
    procs = [
        start_consumer(
            mosquitto.port, client_id=f"tds-alarm-{i}", log_path=log, extra=["--no-shared"]
        )
        for i, log in enumerate(logs)
    ]
    try:
        for log in logs:
            wait_connected(log)
        pub = Publisher(mosquitto.port)
        stream(pub, gw, devices, 500)
        pub.close()
        assert wait_for(lambda: count_readings(ids) == 1500, timeout=60), count_readings(ids)
        assert wait_for(
            lambda: Alarme.objects.filter(regra=regra, estado="encerrado").count() == 3, timeout=30
        ), [
            (
                a.dispositivo_id,
                a.estado,
                a.inicio.strftime("%M:%S"),
                a.fim and a.fim.strftime("%M:%S"),
            )
            for a in Alarme.objects.all()
        ]
        time.sleep(1)  # the slower consumer finishes its batches too
    finally:
        for p in procs:
            assert stop(p) == 0
    assert_one_alarm_fired_and_cleared_per_device(regra, devices)
    assert TransicaoAlarme.objects.count() == 6


def test_kill_9_mid_alarm_leaves_a_correct_state(mosquitto, planta, tmp_path):
    gw, devices, regra = planta["gateway"], planta["devices"], planta["regra"]
    ids = [d.pk for d in devices]
    log = tmp_path / "consumer.log"
    proc = start_consumer(mosquitto.port, log_path=log)
    wait_connected(log)
    # the rules were loaded at start, before the first batch
    assert f"event=alarm_rules_loaded contas=1 devices={len(devices)} " in log.read_text()
    pub = Publisher(mosquitto.port)
    feeder = threading.Thread(target=stream, args=(pub, gw, devices, 600), kwargs={"pause": 0.01})
    feeder.start()
    try:
        assert wait_for(lambda: Alarme.objects.filter(regra=regra).exists(), timeout=30)
        proc.send_signal(signal.SIGKILL)  # alarms open, the clearing readings not yet in
        proc.wait()
        opened_at_kill = Alarme.objects.filter(regra=regra, estado="ativo").count()
        feeder.join()
        pub.flush()
        assert opened_at_kill >= 1
        assert count_readings(ids) < 1800, "the kill did not happen mid-stream"
        proc = start_consumer(mosquitto.port, log_path=log)
        assert wait_for(lambda: count_readings(ids) == 1800, timeout=60), count_readings(ids)
        assert wait_for(
            lambda: Alarme.objects.filter(regra=regra, estado="encerrado").count() == 3, timeout=30
        )
    finally:
        assert stop(proc) == 0
        pub.close()
    assert_one_alarm_fired_and_cleared_per_device(regra, devices)


FAIL_ALARM_INSERTS = """
CREATE FUNCTION tds_test_fail_alarm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'test: serialization failure' USING ERRCODE = '40001'; END $$;
CREATE TRIGGER tds_test_fail_alarm BEFORE INSERT ON tds_new_alarme
FOR EACH ROW EXECUTE FUNCTION tds_test_fail_alarm();
"""
HEAL_ALARM_INSERTS = """
DROP TRIGGER IF EXISTS tds_test_fail_alarm ON tds_new_alarme;
DROP FUNCTION IF EXISTS tds_test_fail_alarm();
"""


def test_a_database_error_in_alarm_evaluation_is_retried_not_lost(mosquitto, planta, tmp_path):
    """The readings commit, then writing the alarm fails with a retryable database error
    (a trigger answers 40001 serialization_failure): the consumer keeps the batch unacked
    and runs the evaluation again until it succeeds; the alarm is not lost."""
    from django.db import connection

    gw, devices, regra = planta["gateway"], planta["devices"], planta["regra"]
    ids = [d.pk for d in devices]
    log = tmp_path / "consumer.log"
    with connection.cursor() as cur:
        cur.execute(FAIL_ALARM_INSERTS)
    proc = start_consumer(mosquitto.port, log_path=log)
    try:
        wait_connected(log)
        pub = Publisher(mosquitto.port)
        stream(pub, gw, devices, 150)  # above the limit from second 100 on
        pub.close()
        assert wait_for(lambda: "committed_hook_db_error" in log.read_text(), timeout=60)
        # The batch whose evaluation fails has committed its readings (the first over the
        # limit among them); the batches after it wait for its ack, so how many of the 450
        # are stored by now depends on how the stream was cut into batches.
        assert count_readings(ids) >= 3 * (HIGH.start + 1)
        assert not Alarme.objects.exists()
        with connection.cursor() as cur:
            cur.execute(HEAL_ALARM_INSERTS)
        assert wait_for(
            lambda: Alarme.objects.filter(regra=regra, estado="ativo").count() == 3, timeout=30
        ), log.read_text()[-3000:]
        assert wait_for(lambda: count_readings(ids) == 450, timeout=60), count_readings(ids)
    finally:
        with connection.cursor() as cur:
            cur.execute(HEAL_ALARM_INSERTS)
        assert stop(proc) == 0
    for d in devices:
        (a,) = Alarme.objects.filter(regra=regra, dispositivo=d)
        assert a.inicio == T0 + dt.timedelta(seconds=HIGH.start)
        assert [t.tipo for t in a.transicoes.all()] == ["disparo"]

"""Gateway certificate → generated Mosquitto (mTLS + ACL) → the ingest consumer, started
as `manage.py start_mqtt_consumer` with its own client certificate → a stored reading."""

import os
import sys
import time
from decimal import Decimal

import pytest
from django.db import connection

from certificados import services
from certificados.pki import ca as pki
from ingestao.tests.helpers import logged_popen, stop
from tds_testing import factories

from .broker_util import GeneratedBroker, payload


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_reading_from_a_certified_gateway_is_stored_and_a_forged_one_is_not(
    pki_dir, tmp_path, settings
):
    from telemetria.models import LeituraDispositivo

    conta = factories.make_conta()
    gw_a = factories.make_gateway(conta=conta, mac="aa:bb:cc:00:00:01")
    gw_b = factories.make_gateway(conta=conta, mac="aa:bb:cc:00:00:02")
    d_a = factories.make_dispositivo(gateway=gw_a, codigo="D01")
    d_b = factories.make_dispositivo(gateway=gw_b, codigo="D01")
    issued = services.certificado_issue(gateway=gw_a)
    crt, key = tmp_path / "a.crt", tmp_path / "a.key"
    crt.write_text(issued.certificado.certificado_pem)
    pki.write_private(key, issued.key_pem)

    broker = GeneratedBroker(tmp_path / "broker").start()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TDS_PKI_DIR": str(pki_dir),
        "MQTT_URL": f"mqtts://127.0.0.1:{broker.port}",
        "MQTT_CA_FILE": str(broker.out / "ca.crt"),
        "MQTT_CERT_FILE": str(broker.out / "consumer.crt"),
        "MQTT_KEY_FILE": str(broker.out / "consumer.key"),
    }
    log = tmp_path / "consumer.log"  # a file: a pipe nobody reads can fill and block it
    consumer = logged_popen([sys.executable, "manage.py", "start_mqtt_consumer"], env, log)
    try:
        forged = payload("aa:bb:cc:00:00:02", 666)
        broker.publish(
            topic="tds_new/devices/aa:bb:cc:00:00:02/telemetry", payload=forged, cert=crt, key=key
        )
        deadline = time.monotonic() + 30
        stored = None
        while stored is None and time.monotonic() < deadline:
            assert consumer.poll() is None, log.read_text(errors="replace")[-2000:]
            # Keep publishing until the consumer's (persistent) subscription is in place.
            broker.publish(
                topic="tds_new/devices/aa:bb:cc:00:00:01/telemetry",
                payload=payload("aa:bb:cc:00:00:01", 42.5),
                cert=crt,
                key=key,
            )
            time.sleep(0.5)
            stored = LeituraDispositivo.objects.filter(dispositivo_id=d_a.pk).first()
        assert stored is not None, "no reading stored from the certified gateway"
        assert stored.valor == Decimal("42.5")
        assert not LeituraDispositivo.objects.filter(dispositivo_id=d_b.pk).exists()
    finally:
        stop(consumer)
        broker.stop()

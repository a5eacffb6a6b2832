"""Issue 12 item 9: revoking for key compromise disables the gateway and drops its open
broker connection (before: the CRL reload only refused new connections; an attacker
already connected with the stolen key kept publishing until a broker restart)."""

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from django_scopes import scopes_disabled

from certificados import services
from certificados.pki import ca as pki
from dispositivos.models import Gateway

from .broker_util import GeneratedBroker, payload

pytestmark = pytest.mark.django_db
MAC_A = "aa:bb:cc:00:00:01"


@pytest.fixture
def broker(pki_dir, tmp_path, settings):
    b = GeneratedBroker(tmp_path / "broker")
    settings.TDS_MOSQUITTO_DIR = str(b.out)
    settings.MQTT_URL = f"mqtts://127.0.0.1:{b.port}"
    settings.MQTT_CA_FILE = str(b.out / "ca.crt")
    b.start()
    yield b
    b.stop()


class Gateway_:
    """A gateway as in the field: paho, reconnecting by itself after a disconnect."""

    def __init__(self, broker, crt, key):
        self.connects = 0
        self.disconnected = threading.Event()
        self.changed = threading.Condition()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="gw", protocol=mqtt.MQTTv5)
        c.tls_set(ca_certs=str(broker.out / "ca.crt"), certfile=str(crt), keyfile=str(key))
        c.reconnect_delay_set(1, 1)

        def on_connect(client, userdata, flags, reason_code, properties):
            with self.changed:
                self.connects += reason_code.value == 0
                self.changed.notify_all()

        def on_disconnect(*a):
            self.disconnected.set()

        c.on_connect = on_connect
        c.on_disconnect = on_disconnect
        c.connect("127.0.0.1", broker.port)
        c.loop_start()
        self.client = c
        with self.changed:
            assert self.changed.wait_for(lambda: self.connects == 1, 10)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def test_key_compromise_disables_the_gateway_and_drops_its_connection(
    broker, gateway_a, tmp_path, django_capture_on_commit_callbacks
):
    issued = services.certificado_issue(gateway=gateway_a)
    crt, key = tmp_path / "a.crt", tmp_path / "a.key"
    crt.write_text(issued.certificado.certificado_pem)
    pki.write_private(key, issued.key_pem)
    gw = Gateway_(broker, crt, key)
    try:
        sub = broker.subscriber(f"tds_new/devices/{MAC_A}/telemetry")
        gw.client.publish(f"tds_new/devices/{MAC_A}/telemetry", payload(MAC_A, 1), qos=1)
        assert sub.get() is not None
        with django_capture_on_commit_callbacks(execute=True):
            services.certificado_revoke(certificado=issued.certificado, reason="key_compromise")
        assert gw.disconnected.wait(5), "the open connection was not dropped"
        # It tries again by itself (once a second), and the broker (CRL reloaded) refuses
        # its certificate each time.
        deadline = time.monotonic() + 15
        while broker.log().split("closing old connection")[-1].count("verify failed") < 2:
            assert time.monotonic() < deadline, broker.log()[-2000:]
            time.sleep(0.1)
        assert gw.connects == 1, "the revoked certificate got back in"
        sub.close()
    finally:
        gw.close()
    with scopes_disabled():
        assert Gateway.objects.get(pk=gateway_a.pk).is_active is False


def test_other_revocation_reasons_leave_the_gateway_active(pki_dir, gateway_a):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    services.certificado_revoke(certificado=cert, reason="superseded")
    with scopes_disabled():
        assert Gateway.objects.get(pk=gateway_a.pk).is_active is True

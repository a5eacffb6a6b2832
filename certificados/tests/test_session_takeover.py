"""Issue 12 item 1: a certificate cannot take over another identity's MQTT session.

Against a real private Mosquitto run from the files `mosquitto_config` writes (mTLS,
ACL, CRL): a gateway certificate that connects with the consumer's client id, or with
another gateway's, must neither kick that client off nor wipe its queued session.
Before the fix (no `use_username_as_clientid`) both attacks worked.
"""

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from certificados import services
from certificados.pki import ca as pki

from .broker_util import GeneratedBroker, payload

pytestmark = pytest.mark.django_db
MAC_A = "aa:bb:cc:00:00:01"
MAC_B = "aa:bb:cc:00:00:02"
TOPIC = "tds_new/devices/+/telemetry"


@pytest.fixture
def broker(pki_dir, tmp_path, settings):
    b = GeneratedBroker(tmp_path / "broker")
    settings.TDS_MOSQUITTO_DIR = str(b.out)
    b.start()
    yield b
    b.stop()


def _identity(tmp_path, gateway) -> tuple:
    issued = services.certificado_issue(gateway=gateway)
    mac = issued.certificado.common_name
    crt, key = tmp_path / f"{mac}.crt", tmp_path / f"{mac}.key"
    crt.write_text(issued.certificado.certificado_pem)
    pki.write_private(key, issued.key_pem)
    return crt, key


class Client:
    """A paho MQTT v5 client over mTLS that records CONNACKs, disconnects and messages."""

    def __init__(self, broker, *, cert, key, client_id, clean_start, subscribe=None):
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.disconnected = threading.Event()
        self.messages: list[str] = []
        self.got = threading.Condition()
        self.reason = None
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.tls_set(ca_certs=str(broker.out / "ca.crt"), certfile=str(cert), keyfile=str(key))

        def on_connect(client, userdata, flags, reason_code, properties):
            self.reason = reason_code.value
            self.connected.set()
            if subscribe and reason_code.value == 0:
                client.subscribe(subscribe, qos=1)

        def on_message(client, userdata, msg):
            with self.got:
                self.messages.append(msg.payload.decode())
                self.got.notify_all()

        c.on_connect = on_connect
        c.on_subscribe = lambda *a: self.subscribed.set()
        c.on_disconnect = lambda *a: self.disconnected.set()
        c.on_message = on_message
        c.reconnect_delay_set(60, 60)  # a kicked client stays kicked while we look
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c.connect("127.0.0.1", broker.port, clean_start=clean_start, properties=props)
        c.loop_start()
        self.client = c
        assert self.connected.wait(10), "no CONNACK"
        if subscribe:
            assert self.subscribed.wait(10), "no SUBACK"

    def wait_messages(self, n: int, timeout: float = 10) -> list[str]:
        with self.got:
            self.got.wait_for(lambda: len(self.messages) >= n, timeout)
            return list(self.messages)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def _publish(broker, cert, mac, valor) -> str:
    body = payload(mac, valor)
    topic = f"tds_new/devices/{mac}/telemetry"
    assert broker.publish(topic=topic, payload=body, cert=cert[0], key=cert[1]) == 0
    return body


def test_generated_config_binds_the_client_id_to_the_certificate(broker):
    assert "use_username_as_clientid true" in (broker.out / "mosquitto.conf").read_text()


def test_a_gateway_certificate_cannot_kick_the_consumer(broker, gateway_a, gateway_b, tmp_path):
    cert_a, cert_b = _identity(tmp_path, gateway_a), _identity(tmp_path, gateway_b)
    consumer_cert = (broker.out / "consumer.crt", broker.out / "consumer.key")
    sent_id = "tds-ingest-somehost-1"  # the id the consumer sends (its old default)
    consumer = Client(
        broker,
        cert=consumer_cert[0],
        key=consumer_cert[1],
        client_id=sent_id,
        clean_start=False,
        subscribe=TOPIC,
    )
    attackers = []
    try:
        # Gateway A connects with the consumer's client id and with its CN: both accepted,
        # neither takes the consumer's place.
        for stolen in (sent_id, "tds-ingest-1"):
            attackers.append(
                Client(broker, cert=cert_a[0], key=cert_a[1], client_id=stolen, clean_start=True)
            )
            assert attackers[-1].reason == 0
        body = _publish(broker, cert_b, MAC_B, 7)
        assert consumer.wait_messages(1) == [body]
        assert not consumer.disconnected.is_set(), "the consumer was kicked off"
    finally:
        for a in attackers:
            a.close()
        consumer.close()


def test_a_gateway_certificate_cannot_wipe_the_consumers_queued_session(
    broker, gateway_a, gateway_b, tmp_path
):
    cert_a, cert_b = _identity(tmp_path, gateway_a), _identity(tmp_path, gateway_b)
    consumer_cert = (broker.out / "consumer.crt", broker.out / "consumer.key")
    sent_id = "tds-ingest-somehost-1"
    kw = {"cert": consumer_cert[0], "key": consumer_cert[1], "client_id": sent_id}
    Client(broker, **kw, clean_start=False, subscribe=TOPIC).close()  # session kept
    queued = [_publish(broker, cert_b, MAC_B, v) for v in (1, 2, 3)]
    for stolen in (sent_id, "tds-ingest-1"):
        Client(broker, cert=cert_a[0], key=cert_a[1], client_id=stolen, clean_start=True).close()
    consumer = Client(broker, **kw, clean_start=False)
    try:
        assert consumer.wait_messages(3) == queued
    finally:
        consumer.close()


def test_a_gateway_certificate_cannot_steal_the_consumers_queued_messages(
    broker, gateway_a, gateway_b, tmp_path
):
    """Resuming a session (clean_start=False) inherits its subscriptions, which the ACL
    does not check again: before the fix the attacker received the consumer's backlog."""
    cert_a, cert_b = _identity(tmp_path, gateway_a), _identity(tmp_path, gateway_b)
    consumer_cert = (broker.out / "consumer.crt", broker.out / "consumer.key")
    sent_id = "tds-ingest-somehost-1"
    kw = {"cert": consumer_cert[0], "key": consumer_cert[1], "client_id": sent_id}
    Client(broker, **kw, clean_start=False, subscribe=TOPIC).close()  # session kept
    queued = [_publish(broker, cert_b, MAC_B, v) for v in (4, 5, 6)]
    thieves = [
        Client(broker, cert=cert_a[0], key=cert_a[1], client_id=stolen, clean_start=False)
        for stolen in (sent_id, "tds-ingest-1")
    ]
    consumer = Client(broker, **kw, clean_start=False)
    try:
        assert consumer.wait_messages(3) == queued
        assert [t.messages for t in thieves] == [[], []]
    finally:
        consumer.close()
        for t in thieves:
            t.close()


def test_a_gateway_certificate_cannot_kick_another_gateway(broker, gateway_a, gateway_b, tmp_path):
    cert_a, cert_b = _identity(tmp_path, gateway_a), _identity(tmp_path, gateway_b)
    own_id = f"gw-{uuid.uuid4().hex[:6]}"
    victim = Client(broker, cert=cert_a[0], key=cert_a[1], client_id=own_id, clean_start=False)
    attackers = []
    try:
        for stolen in (own_id, MAC_A):
            attackers.append(
                Client(broker, cert=cert_b[0], key=cert_b[1], client_id=stolen, clean_start=True)
            )
        # Gateway A still publishes on its connection (a round trip through the broker).
        info = victim.client.publish(f"tds_new/devices/{MAC_A}/telemetry", payload(MAC_A, 1), qos=1)
        info.wait_for_publish(10)
        assert info.is_published()
        assert not victim.disconnected.is_set(), "gateway A was kicked off"
    finally:
        for a in attackers:
            a.close()
        victim.close()

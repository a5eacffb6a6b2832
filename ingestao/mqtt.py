"""paho-mqtt 2.x client construction shared by the consumer and the simulator:
MQTT_URL parsing (mqtt:// or mqtts:// with mutual TLS) and MQTT v5 session options."""

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_url(url: str) -> BrokerAddress:
    u = urlparse(url)
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"MQTT_URL: unsupported scheme {u.scheme!r} (use mqtt:// or mqtts://)")
    tls = u.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=u.hostname or "127.0.0.1",
        port=u.port or (8883 if tls else 1883),
        tls=tls,
        username=u.username,
        password=u.password,
    )


def default_client_id(prefix: str, instance: int) -> str:
    return f"{prefix}-{socket.gethostname()}-{instance}"


def make_client(
    *,
    url: str,
    client_id: str,
    v5: bool = True,
    manual_ack: bool = False,
    ca_file: str = "",
    cert_file: str = "",
    key_file: str = "",
) -> tuple[mqtt.Client, BrokerAddress]:
    addr = parse_url(url)
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else False,
        manual_ack=manual_ack,
    )
    if addr.username:
        client.username_pw_set(addr.username, addr.password)
    if addr.tls:
        ca = ca_file or settings.MQTT_CA_FILE
        cert = cert_file or settings.MQTT_CERT_FILE
        key = key_file or settings.MQTT_KEY_FILE
        client.tls_set(
            ca_certs=ca or None,
            certfile=cert or None,
            keyfile=key or None,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    return client, addr


def connect_properties(*, session_expiry: int, receive_maximum: int | None = None) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry
    if receive_maximum:
        props.ReceiveMaximum = min(65535, receive_maximum)
    return props

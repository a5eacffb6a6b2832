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


class BufferedClient(mqtt.Client):
    """A paho-mqtt client that reads the socket in large chunks.

    paho reads each packet with several recv() calls (the type byte, each length byte,
    then the body) and goes back to select() after every packet: at thousands of
    messages per second that was most of the network thread's time. This client reads
    what the socket holds into a buffer, serves paho's reads from it, and handles every
    complete packet in the buffer before select() again. It overrides two private paho
    methods (`_sock_recv`, `_sock_close`); the consumer's tests pin the behaviour.
    """

    READ_SIZE = 256 * 1024

    def __init__(self, *args, **kwargs):
        self._rbuf = b""
        self._rpos = 0
        super().__init__(*args, **kwargs)

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(self.READ_SIZE)  # BlockingIOError when none yet
            if not data:
                return data  # connection closed
            self._rbuf, self._rpos = data, 0
        pos = self._rpos
        chunk = self._rbuf[pos : pos + bufsize]
        self._rpos = pos + len(chunk)
        return chunk

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Packets already in the buffer: select() would not report them.
        while rc == mqtt.MQTT_ERR_SUCCESS and self._sock is not None:
            before = self._rpos
            if before >= len(self._rbuf):
                break
            rc = super().loop_read(max_packets)
            if self._rpos == before:  # only part of a packet left: wait for the socket
                break
        return rc

    def _sock_close(self) -> None:
        super()._sock_close()
        self._rbuf, self._rpos = b"", 0  # never carry bytes over to a new connection


def make_client(
    *,
    url: str,
    client_id: str,
    v5: bool = True,
    manual_ack: bool = False,
    ca_file: str = "",
    cert_file: str = "",
    key_file: str = "",
) -> tuple[BufferedClient, BrokerAddress]:
    addr = parse_url(url)
    client = BufferedClient(
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

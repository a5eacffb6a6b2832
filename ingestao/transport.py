"""The consumer's transport: connect, subscribe, hand each message over, and acknowledge
only what the current connection delivered.

`Transport` is the seam a second broker plugs into (NATS JetStream); the batch pipeline
(ingestao.pipeline) sees only `Received` items and calls `ack()` after commit.
`MqttTransport` is the paho-mqtt 2.x implementation (manual ack, persistent session).
"""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from tds_core import wire

from .mqtt import connect_properties, make_client

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Received:
    """One message as the pipeline sees it."""

    generation: int  # the connection it came on: an ack on a later one would be wrong
    mid: Any  # the transport's handle to ack it (the MQTT packet id)
    qos: int  # 0: nothing to acknowledge
    topic: str
    payload: bytes
    received_at: dt.datetime
    received_mono: float


class Transport(Protocol):
    def start(self, deliver: Callable[[Received], None]) -> None:
        """Connect (in the background, reconnecting by itself) and subscribe to telemetry
        and status; call `deliver` for every message, from any thread."""

    def ack(self, items: list[Received]) -> None:
        """Acknowledge delivered messages whose rows are committed. Messages of an earlier
        connection are skipped: the broker redelivers them."""

    def close(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker."""

    def describe(self) -> str:
        """For the start-up log line: where it is connected and how."""


@dataclass
class MqttOptions:
    url: str
    client_id: str
    v5: bool = True
    # Telemetry through $share/<SHARE_GROUP>/ (MQTT v5 only). Off by default: Mosquitto
    # saves a plain subscription with the session but never a shared one (ingestao.delivery).
    shared: bool = False
    session_expiry: int = 7 * 86400
    receive_maximum: int = 2000  # unacknowledged messages the broker may send at once
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


class MqttTransport:
    """paho-mqtt with manual acks and a persistent session. The generation counts
    connections: it moves on every connect and disconnect, and `ack()` only acks items
    of the current one."""

    def __init__(self, options: MqttOptions, *, is_stopping: Callable[[], bool] = lambda: False):
        self.opts = options
        self._is_stopping = is_stopping
        self._generation = 0
        self._deliver: Callable[[Received], None] | None = None
        self.client: mqtt.Client | None = None
        self.address = None

    def start(self, deliver: Callable[[Received], None]) -> None:
        o = self.opts
        self._deliver = deliver
        client, addr = make_client(
            url=o.url,
            client_id=o.client_id,
            v5=o.v5,
            manual_ack=True,
            ca_file=o.ca_file,
            cert_file=o.cert_file,
            key_file=o.key_file,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        if not o.v5:
            client.max_inflight_messages_set(o.receive_maximum)
        self.client, self.address = client, addr
        kwargs = {"keepalive": 30}
        if o.v5:
            kwargs["clean_start"] = False
            kwargs["properties"] = connect_properties(
                session_expiry=o.session_expiry, receive_maximum=o.receive_maximum
            )
        client.connect_async(addr.host, addr.port, **kwargs)
        client.loop_start()

    def ack(self, items: list[Received]) -> None:
        generation = self._generation
        client = self.client
        for item in items:
            if item.generation == generation and item.qos > 0:
                client.ack(item.mid, item.qos)

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def describe(self) -> str:
        o, addr = self.opts, self.address
        return (
            f"mqtt client_id={o.client_id} broker={addr.host}:{addr.port} tls={addr.tls}"
            f" v5={o.v5} shared={o.shared}"
        )

    # -- paho callbacks (network thread) ---------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("event=mqtt_connect_failed reason=%s", reason_code)
            return
        self._generation += 1
        o = self.opts
        telemetry = (
            wire.shared(wire.TELEMETRY_FILTER) if o.v5 and o.shared else wire.TELEMETRY_FILTER
        )
        # Status is subscribed plainly by every consumer: each sees a gateway's status
        # changes in order, so the last one wins everywhere.
        if o.v5:
            # Retained statuses only when the subscription is new, not on every reconnect.
            status_opts = SubscribeOptions(
                qos=wire.QOS, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
            )
            client.subscribe(
                [
                    (telemetry, SubscribeOptions(qos=wire.QOS)),
                    (wire.STATUS_FILTER, status_opts),
                    # The gateway agents' health (ingestao/diagnostics.py), plainly too.
                    (wire.DIAGNOSTICS_FILTER, SubscribeOptions(qos=wire.QOS)),
                ]
            )
        else:
            client.subscribe(
                [
                    (telemetry, wire.QOS),
                    (wire.STATUS_FILTER, wire.QOS),
                    (wire.DIAGNOSTICS_FILTER, wire.QOS),
                ]
            )
        log.info(
            "event=mqtt_connected session_present=%s generation=%d",
            getattr(flags, "session_present", None),
            self._generation,
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        codes = [str(rc) for rc in reason_codes]
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("event=mqtt_subscribe_failed reasons=%s", codes)
        else:
            log.info("event=mqtt_subscribed granted=%s", codes)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        # Messages of the old connection must not be acked on the new one.
        self._generation += 1
        if not self._is_stopping():
            log.warning("event=mqtt_disconnected reason=%s", reason_code)

    def _on_message(self, client, userdata, msg):
        self._deliver(
            Received(
                self._generation,
                msg.mid,
                msg.qos,
                msg.topic,
                msg.payload,
                dt.datetime.now(tz=dt.UTC),
                time.monotonic(),
            )
        )

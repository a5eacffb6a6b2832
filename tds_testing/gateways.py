"""A gateway-like publisher for fault tests and benches: what a field gateway does.

MQTT 3.1.1, a persistent session (clean_session=False, fixed client id), QoS 1, paho's
automatic reconnect, messages buffered while disconnected and resent (unacknowledged ones
with DUP) on reconnect. It publishes message i with data timestamp T0 + i seconds, one
reading per device code, so the database can say exactly which acknowledged messages
were stored: `acknowledged()` is the indexes the broker PUBACKed.

With `v5=True` it follows the v5 gateway contract (DESIGN.md): a PUBACK with reason 0x10
("no matching subscribers") or any code >= 0x80 means "not delivered", and the message is
published again (a second later, like a gateway's retry) until a PUBACK says success.
"""

import datetime as dt
import json
import queue
import ssl
import threading
import time

import paho.mqtt.client as mqtt

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def message(mac: str, i: int, codes: list[str]) -> bytes:
    ts = (T0 + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
    leituras = [{"dispositivo_codigo": c, "valor": 1000 + i} for c in codes]
    return json.dumps({"gateway_mac": mac, "timestamp": ts, "leituras": leituras}).encode()


RETRY_AFTER = 1.0  # seconds before a v5 gateway resends a message the broker did not deliver


class GatewayStream:
    """Publishes `rate` messages/s from a thread until stop() (or `count` messages)."""

    def __init__(
        self,
        *,
        port: int,
        mac: str,
        codes: list[str],
        rate: float = 100,
        count: int = 0,
        client_id: str = "",
        host: str = "127.0.0.1",
        tls: tuple[str, str, str] | None = None,  # (ca, cert, key)
        v5: bool = False,
    ):
        self.mac, self.codes, self.rate, self.count, self.v5 = mac, codes, rate, count, v5
        self.topic = f"tds_new/devices/{mac}/telemetry"
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"gw-{mac}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else False,
        )
        self.client.max_queued_messages_set(0)  # buffer everything while disconnected
        # Faster than the consumer (1 s): with hundreds of gateways, some always reconnect
        # before the consumer does, which is when a forgotten subscription loses messages.
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)
        if tls:
            ca, cert, key = tls
            self.client.tls_set(
                ca_certs=ca, certfile=cert, keyfile=key, tls_version=ssl.PROTOCOL_TLS_CLIENT
            )
        self.sent = 0  # distinct messages published (retries not counted)
        self.delivered: set[int] = set()  # indexes whose PUBACK said success
        self.refused = 0  # v5 PUBACKs saying "not delivered" (each one retried)
        self.connects = 0
        self._mids: dict[int, int] = {}  # mid -> message index (publisher thread only)
        self._events: queue.SimpleQueue = queue.SimpleQueue()  # (mid, failed) from paho
        self._retries: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        kwargs = {"keepalive": 5}
        if v5:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
            kwargs.update(clean_start=False, properties=props)
        self.client.connect_async(host, port, **kwargs)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            self.connects += 1

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        # Called under paho's message lock: hand over, never publish from here.
        failed = self.v5 and (reason_code.value == 0x10 or reason_code.value >= 0x80)
        self._events.put((mid, failed))

    def start(self) -> "GatewayStream":
        self.client.loop_start()
        self._thread.start()
        return self

    def _publish(self, i: int) -> None:
        info = self.client.publish(self.topic, message(self.mac, i, self.codes), qos=1)
        self._mids[info.mid] = i

    def _handle_events(self) -> None:
        while True:
            try:
                mid, failed = self._events.get_nowait()
            except queue.Empty:
                break
            i = self._mids.pop(mid, None)
            if i is None:
                continue
            if failed:
                self.refused += 1
                self._retries.append((time.monotonic() + RETRY_AFTER, i))
            else:
                self.delivered.add(i)
        now = time.monotonic()
        due = [i for at, i in self._retries if at <= now]
        self._retries = [(at, i) for at, i in self._retries if at > now]
        for i in due:
            self._publish(i)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._closed.is_set():
            self._handle_events()
            running = not self._stop.is_set() and (not self.count or self.sent < self.count)
            if not running:
                self._closed.wait(0.05)
                continue
            delay = started + self.sent / self.rate - time.monotonic()
            if delay > 0:
                self._stop.wait(min(delay, 0.05))
                continue
            self._publish(self.sent)
            self.sent += 1

    def acknowledged(self) -> list[int]:
        """Indexes of the messages the broker acknowledged as delivered."""
        return sorted(self.delivered)

    def stop(self) -> None:
        """No new messages; retries and acknowledgements still handled until close()."""
        self._stop.set()

    def drain(self, timeout: float = 30) -> bool:
        """Wait until every message published so far is acknowledged as delivered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.delivered) >= self.sent and not self._retries:
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        self.stop()
        self._closed.set()
        self._thread.join()
        self.client.disconnect()
        self.client.loop_stop()

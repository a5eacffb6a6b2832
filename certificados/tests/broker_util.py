"""A private Mosquitto run from the directory `mosquitto_config` writes, and MQTT
clients acting as gateways (mosquitto_pub CLI) and as the consumer (paho)."""

import datetime as dt
import queue
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from django.core.management import call_command

from tds_core import wire
from tds_testing.mosquitto import PrivateMosquitto, free_port


class GeneratedBroker:
    """The broker `manage.py mosquitto_config` generates (mTLS, ACL, CRL), run privately;
    two consumer identities (consumer.crt, consumer-2.crt) so a test can act as a second
    instance without taking over the first one's session."""

    def __init__(self, out: Path, *, consumers: int = 2):
        self.out = out
        self.port = free_port()
        call_command(
            "mosquitto_config", "--out", str(out), "--port", str(self.port), "--bind", "127.0.0.1",
            "--consumers", str(consumers),
        )  # fmt: skip
        self.process = PrivateMosquitto(conf_path=out / "mosquitto.conf", port=self.port)

    def start(self) -> "GeneratedBroker":
        self.process.start()
        return self

    @property
    def proc(self):
        return self.process.proc

    def log(self) -> str:
        return self.process.log()

    def wait_log(self, *needles: str, timeout: float = 10) -> bool:
        """True once the log holds one of `needles`: the broker may write its line after
        the client has already seen the outcome."""
        deadline = time.monotonic() + timeout
        while not any(n in self.log() for n in needles):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        self.process.stop()

    # -- clients ---------------------------------------------------------------------
    def publish(self, *, topic: str, payload: str, cert=None, key=None, cafile=None) -> int:
        """mosquitto_pub as a gateway would run it; returns its exit code (0 = PUBACKed)."""
        cmd = [
            "mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port),
            "--cafile", str(cafile or self.out / "ca.crt"),
            "-t", topic, "-q", "1", "-m", payload, "-i", f"pub-{uuid.uuid4().hex[:8]}",
        ]  # fmt: skip
        if cert is not None:
            cmd += ["--cert", str(cert), "--key", str(key)]
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode

    def subscriber(self, topic: str, *, cert=None, key=None) -> "Subscriber":
        return Subscriber(
            port=self.port,
            ca=self.out / "ca.crt",
            cert=cert or self.out / "consumer.crt",
            key=key or self.out / "consumer.key",
            topic=topic,
        )


class Subscriber:
    """A paho MQTT v5 subscriber; `granted` is the SUBACK's reason code value."""

    def __init__(self, *, port, ca, cert, key, topic):
        self.messages: queue.Queue = queue.Queue()
        self.granted = None
        done = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"sub-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        client.tls_set(ca_certs=str(ca), certfile=str(cert), keyfile=str(key))

        def on_subscribe(c, userdata, mid, reason_codes, properties):
            self.granted = reason_codes[0].value
            done.set()

        def on_connect(c, userdata, flags, reason_code, properties):
            c.subscribe(topic, qos=1)

        client.on_subscribe = on_subscribe
        client.on_connect = on_connect
        client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload.decode()))
        client.connect("127.0.0.1", port)
        client.loop_start()
        self.client = client
        if not done.wait(10):
            self.close()
            raise RuntimeError("no SUBACK")

    def get(self, timeout: float = 5):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def payload(mac: str, valor: float = 1.0) -> str:
    return wire.telemetry_payload(
        mac=mac,
        timestamp=dt.datetime.now(dt.UTC).replace(microsecond=0),
        leituras=[{"dispositivo_codigo": "D01", "valor": valor}],
    ).decode()

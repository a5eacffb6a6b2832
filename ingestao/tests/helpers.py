"""Helpers for the ingest tests: payloads, a QoS 1 publisher, the consumer as a real
subprocess (`manage.py start_mqtt_consumer`) and polling of the database."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from django.db import connection

from ingestao.transport import Received
from tds_core import wire
from tds_testing.postgres import current_database_url

ROOT = Path(__file__).resolve().parents[2]


def payload(mac: str, ts: dt.datetime | str, leituras: list[dict], **extra) -> bytes:
    return wire.telemetry_payload(mac=mac, timestamp=ts, leituras=leituras, **extra)


telemetry_topic = wire.telemetry_topic


def received(topic: str, data: bytes, mid: int = 1) -> Received:
    """A message as the transport hands it to the pipeline (in-process batch tests)."""
    return Received(1, mid, 1, topic, data, dt.datetime.now(tz=dt.UTC), time.monotonic())


class Publisher:
    """A gateway-like QoS 1 publisher (waits for every PUBACK)."""

    def __init__(self, port: int, client_id: str = "test-publisher"):
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.pending = []

    def publish(self, topic: str, data: bytes, *, retain: bool = False):
        info = self.client.publish(topic, data, qos=1, retain=retain)
        self.pending.append(info)
        return info

    def flush(self, timeout: float = 30):
        deadline = time.monotonic() + timeout
        for info in self.pending:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self.pending = [i for i in self.pending if not i.is_published()]
        assert not self.pending, f"{len(self.pending)} messages not acknowledged by the broker"

    def close(self):
        self.flush()
        self.client.disconnect()
        self.client.loop_stop()


def start_consumer(
    broker_port: int,
    *,
    client_id: str = "tds-ingest-test-1",
    database_url: str | None = None,
    extra: list[str] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url or current_database_url()
    env["MQTT_URL"] = f"mqtt://127.0.0.1:{broker_port}"
    env["LOG_LEVEL"] = "INFO"
    args = [
        sys.executable,
        str(ROOT / "manage.py"),
        "start_mqtt_consumer",
        "--client-id",
        client_id,
        "--log-interval",
        "1",
        *(extra or []),
    ]
    if log_path:
        # wait_connected looks only at what this process writes: a log shared by several
        # runs already holds the previous run's "subscribed" line.
        _log_offsets[log_path] = log_path.stat().st_size if log_path.exists() else 0
    return logged_popen(args, env, log_path)


_log_offsets: dict[Path, int] = {}


def wait_connected(log_path: Path, timeout: float = 20) -> None:
    """Until the consumer last started with this log has subscribed."""
    offset = _log_offsets.get(log_path, 0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_path.exists():
            with open(log_path, "rb") as f:
                f.seek(offset)
                if b"event=mqtt_subscribed" in f.read():
                    return
        time.sleep(0.1)
    raise AssertionError("consumer did not connect:\n" + log_path.read_text(errors="replace"))


def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
    """SIGTERM, and the exit code. A process still running after `timeout` gets SIGABRT:
    the consumers run with PYTHONFAULTHANDLER, so every thread's stack lands in their log,
    which the failure quotes (a hang is then diagnosed from the CI output alone)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log = _log_of(proc)
            raise AssertionError(
                f"{proc.args[2:4]} still running {timeout:.0f} s after SIGTERM; its log ends:\n"
                + (log.read_text(errors="replace")[-12000:] if log else "(no log)")
            ) from None
    return proc.returncode


def _log_of(proc: subprocess.Popen) -> Path | None:
    return getattr(proc, "tds_log_path", None)


def logged_popen(args: list[str], env: dict, log_path: Path | None) -> subprocess.Popen:
    """A manage.py process with its output in `log_path` (faulthandler on: see stop())."""
    env = {**env, "PYTHONFAULTHANDLER": "1"}
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    proc.tds_log_path = log_path
    return proc


def count_readings(dispositivo_ids) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM tds_new_leitura_dispositivo WHERE dispositivo_id = ANY(%s)",
            [list(dispositivo_ids)],
        )
        return cur.fetchone()[0]


def duplicate_keys(dispositivo_ids) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) - count(DISTINCT (dispositivo_id, time))"
            " FROM tds_new_leitura_dispositivo WHERE dispositivo_id = ANY(%s)",
            [list(dispositivo_ids)],
        )
        return cur.fetchone()[0]

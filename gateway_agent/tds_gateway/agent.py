"""The agent: polls on interval ticks, stores each poll in the outbox, publishes.

Threads:
- main: waits for the next tick (aligned on the wall clock), applies a new config if one
  arrived, polls every bus in parallel (one thread per bus), writes the poll's messages
  to the outbox, hands their ids to the sender as *live*, publishes diagnostics;
- sender: publishes live messages at once and the backlog oldest first at a bounded rate
  (`drain_rate` messages/s, at most `max_inflight` awaiting PUBACK), deletes a message
  when its PUBACK says delivered; keeps it for a retry when the reason code is 0x10
  ("no matching subscribers") or >= 0x80;
- paho's network thread: only queues PUBACKs and config messages for the others.

A reading's timestamp is its tick, so a resend after a crash carries the same key and
the platform's unique (dispositivo, time) absorbs it.
"""

import contextlib
import ctypes
import logging
import math
import queue
import ssl
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from . import __version__, wire
from .bootstrap import Bootstrap
from .modbus import ERROR_KINDS, Bus, bus_key
from .outbox import Outbox

log = logging.getLogger("tds_gateway")

DEFAULT_INTERVAL = 60.0
NO_MATCHING_SUBSCRIBERS = 0x10


def mac_from_cert(cert_file: str) -> str:
    """The gateway's MAC is its certificate's CN (the platform's CA signs nothing else)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    with open(cert_file, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return str(cn).strip().lower().replace("-", ":")


def ntp_synchronized() -> bool | None:
    """adjtimex(2) with no changes: TIME_ERROR (5) means the kernel clock is not
    synchronised. None where it cannot be asked (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex, modes = 0: read only
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != 5


class Agent:
    def __init__(self, boot: Bootstrap, *, mac: str | None = None, client_id: str | None = None):
        self.boot = boot
        self.mac = mac or mac_from_cert(boot.cert_file)
        self.client_id = client_id or f"tds-gw-{self.mac}"
        self.outbox = Outbox(
            boot.outbox_path,
            max_messages=boot.outbox_max_messages,
            max_age=boot.outbox_max_age_days * 86400,
        )
        self.config = {"versao": 0, "intervalo": DEFAULT_INTERVAL, "dispositivos": []}
        cached = self.outbox.meta_get("config")
        if cached:
            try:
                self.config = wire.parse_config(cached.encode(), mac=self.mac)
            except wire.ConfigError as exc:
                log.warning("event=cached_config_invalid error=%s", exc)
        self._pending_config: dict | None = None
        self._stop = threading.Event()  # polling
        self._sender_stop = threading.Event()
        self._wake_sender = threading.Event()
        self._wake_main = threading.Event()
        self.connected = threading.Event()
        self._acks: queue.SimpleQueue = queue.SimpleQueue()
        self._live: queue.SimpleQueue = queue.SimpleQueue()
        self._inflight: dict[int, tuple[int, bool]] = {}  # mid -> (row id, is backlog)
        self._inflight_rows: set[int] = set()
        self._backlog_inflight = 0
        self._retry_at: dict[int, float] = {}
        self._attempts: Counter = Counter()
        self._stats: dict[str, Counter] = {}
        self._last_errors: dict[str, str] = {}
        self.buses: dict[str, Bus] = {}
        self._bus_devices: dict[str, list[dict]] = {}
        self._busy: dict[str, object] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.delivered = 0
        self.polls = 0
        self.client = self._make_client()

    # -- MQTT ------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        b = self.boot
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
        )
        client.tls_set(
            ca_certs=b.ca_file,
            certfile=b.cert_file,
            keyfile=b.key_file,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        client.will_set(wire.topic(self.mac, "status"), wire.STATUS_OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(b.max_inflight + 1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("event=mqtt_connect_failed reason=%s", reason_code)
            return
        client.publish(wire.topic(self.mac, "status"), wire.STATUS_ONLINE, qos=1, retain=True)
        client.subscribe(wire.topic(self.mac, "config"), qos=1)
        self.connected.set()
        self._wake_sender.set()
        log.info("event=mqtt_connected broker=%s:%s", self.boot.broker_host, self.boot.broker_port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("event=mqtt_disconnected reason=%s", reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self._acks.put((mid, reason_code.value if reason_code is not None else 0))
        self._wake_sender.set()

    def _on_message(self, client, userdata, msg):
        if not msg.payload:
            return  # the retained config was cleared
        try:
            config = wire.parse_config(msg.payload, mac=self.mac)
        except wire.ConfigError as exc:
            log.error("event=config_rejected error=%s", exc)
            return
        if config["versao"] == self.config["versao"] and self._pending_config is None:
            return
        self.outbox.meta_set("config", msg.payload.decode())
        self._pending_config = config
        self._wake_main.set()
        log.info("event=config_received versao=%s", config["versao"])

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        self.client.connect_async(
            self.boot.broker_host, self.boot.broker_port, keepalive=self.boot.keepalive,
            properties=props,
        )  # fmt: skip
        self.client.loop_start()
        self._sender = threading.Thread(target=self._send_loop, name="sender", daemon=True)
        self._sender.start()
        self._apply_config(self.config)

    def run(self) -> None:
        """Until stop(): poll on every tick."""
        self.start()
        try:
            self._tick_loop()
        finally:
            self.shutdown()

    def stop(self) -> None:
        """Stops polling; shutdown() then lets the sender finish what is in flight."""
        self._stop.set()
        self._wake_main.set()

    def shutdown(self, *, flush_timeout: float = 3.0) -> None:
        self.stop()
        # The last tick's readings and those awaiting PUBACK get a moment to be confirmed
        # (a backlog stays in the outbox for the next start).
        deadline = time.monotonic() + flush_timeout
        while (
            self.connected.is_set()
            and (self._inflight_rows or not self._live.empty())
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        self._sender_stop.set()
        self._wake_sender.set()
        if hasattr(self, "_sender"):
            self._sender.join(timeout=5)
        if self.connected.is_set():
            info = self.client.publish(
                wire.topic(self.mac, "status"), wire.STATUS_OFFLINE, qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for bus in self.buses.values():
            bus.close()
        self.outbox.close()
        log.info("event=agent_stopped")

    # -- configuration -----------------------------------------------------------------
    def _apply_config(self, config: dict) -> None:
        for bus in self.buses.values():
            bus.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        by_bus: dict[str, list[dict]] = {}
        for dev in config["dispositivos"]:
            by_bus.setdefault(bus_key(dev), []).append(dev)
        buses = {}
        timeout = self.boot.modbus_timeout
        for key, devices in by_bus.items():
            if key == "serial":
                if not self.boot.serial.port:
                    log.error("event=config_serial_missing devices=%d", len(devices))
                    continue
                buses[key] = Bus.serial(self.boot.serial, timeout=timeout)
            else:
                buses[key] = Bus.tcp(devices[0]["host"], devices[0]["porta"], timeout=timeout)
        self.buses, self._bus_devices, self._busy = buses, by_bus, {}
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(buses)), thread_name_prefix="bus")
        self.config = config
        log.info(
            "event=config_applied versao=%s intervalo=%s dispositivos=%d buses=%d",
            config["versao"],
            config["intervalo"],
            len(config["dispositivos"]),
            len(buses),
        )

    # -- polling -----------------------------------------------------------------------
    def _tick_loop(self) -> None:
        interval = self.config["intervalo"]
        next_tick = math.ceil(time.time() / interval) * interval
        while not self._stop.is_set():
            delay = next_tick - time.time()
            if delay > 0:
                self._wake_main.wait(delay)
                self._wake_main.clear()
                if self._stop.is_set():
                    break
                if self._pending_config is not None:
                    config, self._pending_config = self._pending_config, None
                    self._apply_config(config)
                    self.publish_diagnostics(time.time())
                    if config["intervalo"] != interval:
                        interval = config["intervalo"]
                        next_tick = math.ceil(time.time() / interval) * interval
                continue
            t = next_tick
            self.poll_once(t)
            self.publish_diagnostics(t)
            interval = self.config["intervalo"]
            next_tick = t + interval
            now = time.time()
            if next_tick <= now:  # the poll overran: skip the ticks already past
                next_tick = math.ceil(now / interval) * interval

    def poll_once(self, t: float) -> int:
        """Polls every idle bus for tick `t`, stores the readings; returns how many."""
        interval = self.config["intervalo"]
        futures = {}
        for key, bus in self.buses.items():
            busy = self._busy.get(key)
            if busy is not None and not busy.done():
                continue  # still polling the previous tick (a slow bus): skip this one
            futures[key] = self._busy[key] = self._pool.submit(bus.poll, self._bus_devices[key])
        done, _ = futures_wait(list(futures.values()), timeout=max(0.1, interval * 0.9))
        leituras = []
        for f in done:
            for r in f.result():
                stats = self._stats.setdefault(r.codigo, Counter())
                if r.error:
                    stats[r.error] += 1
                    self._last_errors[r.codigo] = r.detail
                    continue
                stats["leituras"] += 1
                leituras.append(
                    {"dispositivo_codigo": r.codigo, "valor": wire.reading_value(r.value)}
                )
        self.polls += 1
        if leituras:
            payloads = wire.telemetry_payloads(mac=self.mac, t=t, leituras=leituras)
            topic = wire.topic(self.mac, "telemetry")
            for row_id in self.outbox.add([(topic, p) for p in payloads]):
                self._live.put(row_id)
            self._wake_sender.set()
        return len(leituras)

    # -- diagnostics ----------------------------------------------------------------------
    def diagnostics(self, t: float) -> dict:
        stats, self._stats = self._stats, {}
        errors, self._last_errors = self._last_errors, {}
        devices = []
        for dev in self.config["dispositivos"]:
            c = stats.get(dev["codigo"], Counter())
            item = {"dispositivo_codigo": dev["codigo"], "leituras": c["leituras"]}
            item.update({k: c[k] for k in ERROR_KINDS})
            if dev["codigo"] in errors:
                item["ultimo_erro"] = errors[dev["codigo"]]
            devices.append(item)
        oldest = self.outbox.oldest_created()
        return {
            "gateway_mac": self.mac,
            "timestamp": wire.timestamp(t),
            "agente": f"tds-gateway/{__version__}",
            "config_versao": self.config["versao"],
            "intervalo_segundos": self.config["intervalo"],
            "outbox": {
                "pendentes": len(self.outbox),
                "descartadas": self.outbox.dropped,
                "mais_antiga": wire.timestamp(int(oldest)) if oldest else None,
            },
            "relogio": {"ntp_sincronizado": ntp_synchronized()},
            "dispositivos": devices,
        }

    def publish_diagnostics(self, t: float) -> None:
        body = self.diagnostics(t)
        if self.connected.is_set():
            # Health is about now: not stored and forwarded, QoS 1 while connected.
            self.client.publish(
                wire.topic(self.mac, "diagnostics"), wire.diagnostics_payload(**body), qos=1
            )

    # -- sending ---------------------------------------------------------------------------
    def _send_loop(self) -> None:
        tokens, last = 0.0, time.monotonic()
        while not self._sender_stop.is_set():
            self._wake_sender.wait(0.05)
            self._wake_sender.clear()
            try:
                now = time.monotonic()
                # The backlog's token bucket: drain_rate per second, at most a window's worth.
                tokens = min(
                    float(self.boot.max_inflight), tokens + (now - last) * self.boot.drain_rate
                )
                last = now
                tokens -= self._send_step(int(tokens))
            except Exception:
                # Never die silently: the readings stay in the outbox, the next step retries.
                log.exception("event=sender_error")
                self._sender_stop.wait(1.0)

    def _send_step(self, budget: int) -> int:
        """Acks in, live messages out, then up to `budget` backlog messages oldest first;
        returns how many backlog messages it published."""
        self._handle_acks()
        live = []
        while True:
            try:
                live.append(self._live.get_nowait())
            except queue.Empty:
                break
        if not self.connected.is_set():
            return 0  # still in the outbox: they will leave as backlog
        live = [i for i in live if i not in self._inflight_rows]
        for row in self.outbox.get(live):
            self._publish(row, backlog=False)
        now = time.time()
        for r in [r for r, at in self._retry_at.items() if at <= now]:
            del self._retry_at[r]  # due again: back in the backlog
        room = min(budget, self.boot.max_inflight - self._backlog_inflight)
        waiting = len(self._inflight_rows) + len(self._retry_at)
        if room <= 0 or len(self.outbox) <= waiting:
            return 0
        exclude = self._inflight_rows | set(self._retry_at)
        rows = self.outbox.oldest(room, exclude=exclude)
        for row in rows:
            self._publish(row, backlog=True)
        return len(rows)

    def _publish(self, row: tuple[int, str, bytes], *, backlog: bool) -> None:
        row_id, topic, payload = row
        info = self.client.publish(topic, payload, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._retry_at[row_id] = time.time() + 1
            return
        self._inflight[info.mid] = (row_id, backlog)
        self._inflight_rows.add(row_id)
        if backlog:
            self._backlog_inflight += 1

    def _handle_acks(self) -> None:
        delivered = []
        while True:
            try:
                mid, code = self._acks.get_nowait()
            except queue.Empty:
                break
            entry = self._inflight.pop(mid, None)
            if entry is None:
                continue  # a status or diagnostics message
            row_id, backlog = entry
            self._inflight_rows.discard(row_id)
            if backlog:
                self._backlog_inflight -= 1
            if code == NO_MATCHING_SUBSCRIBERS or code >= 0x80:
                self._attempts[row_id] += 1
                self._retry_at[row_id] = time.time() + min(30, 2 * self._attempts[row_id])
                log.warning("event=not_delivered reason=0x%02x row=%d", code, row_id)
                continue
            self._attempts.pop(row_id, None)
            delivered.append(row_id)
        if delivered:
            self.outbox.delete(delivered)
            self.delivered += len(delivered)

"""The ingest worker: MQTT in, validated batches out to the storage API, ack after commit.

Threads: paho's network thread only queues received messages (`on_message`); the main
thread collects batches (by size and by time), validates, writes everything of the
batch in one transaction (readings, dead letters, gateway status) and only then acks
the batch's messages. A lost database connection is retried with backoff while nothing
is acked, so the broker keeps every message (persistent session, QoS 1).
"""

import datetime as dt
import gc
import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, reset_queries, transaction
from django_scopes import scopes_disabled
from paho.mqtt.subscribeoptions import SubscribeOptions

from telemetria.live import publish_live_event
from telemetria.storage import InsertResult, insert_readings

from . import services
from .delivery import guarantee_for
from .metrics import IngestMetrics
from .models import Motivo
from .mqtt import connect_properties, make_client
from .registry import RegistryCache
from .validation import parse_telemetry, topic_parts

log = logging.getLogger(__name__)

TELEMETRY_FILTER = "tds_new/devices/+/telemetry"
STATUS_FILTER = "tds_new/devices/+/status"
SHARE_GROUP = "tds-ingest"
DB_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
LIVE_MAX_READINGS = 1000  # per account per batch; the newest are kept
GC_INTERVAL = 10.0  # seconds between explicit cyclic-garbage collections


@dataclass(slots=True)
class Received:
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: dt.datetime
    received_mono: float


@dataclass(slots=True)
class Prepared:
    """A validated batch, ready for its transaction."""

    batch: list[Received]
    started: float
    rows: list = field(default_factory=list)
    dead: list = field(default_factory=list)
    rejects: Counter = field(default_factory=Counter)
    states: dict = field(default_factory=dict)  # gateway id -> (last seen, online)
    live: dict = field(default_factory=lambda: defaultdict(list))  # conta id -> readings
    n_status: int = 0


@dataclass
class WorkerOptions:
    url: str
    client_id: str
    batch_size: int = 500  # messages
    batch_wait: float = 0.05  # seconds from the first message of a batch
    v5: bool = True
    # A plain persistent subscription unless told otherwise: Mosquitto saves it with the
    # session and restores it after a restart; it never saves a $share subscription.
    shared: bool = False
    shared_override: str = ""  # "gateways-retry-v5" or "accept-loss" (see delivery_guarantee)
    session_expiry: int = 7 * 86400
    receive_maximum: int = 0  # 0: 4 x batch_size: the batch being committed, the one being
    # validated and room to receive the next (MQTT 3.1.1: the broker's max_inflight_messages)
    metrics_port: int = 0
    log_interval: float = 10.0
    registry_refresh: float = 60.0
    last_seen_resolution: float = 1.0
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


class IngestWorker:
    def __init__(self, options: WorkerOptions, *, transport=None):
        self.opts = options
        # Another transport (ingestao.nats_transport): start(deliver) / ack(items) / close().
        self.transport = transport
        self.queue: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self.metrics = IngestMetrics(log_interval=options.log_interval)
        self.registry = RegistryCache(refresh_seconds=options.registry_refresh)
        self._stopping = threading.Event()
        self._generation = 0
        self._connected = threading.Event()
        self.client: mqtt.Client | None = None

    # -- lifecycle -----------------------------------------------------------
    def setup(self) -> None:
        delay = 0.5
        while True:  # the database may not be up yet: wait for it, like a lost connection
            try:
                with scopes_disabled():
                    self.registry.reload()
                break
            except DB_ERRORS as exc:
                self.metrics.db_retry()
                log.warning("event=db_error phase=setup retry_in=%.1f error=%s", delay, exc)
                connection.close()
                if self._stopping.wait(delay):
                    raise SystemExit(0) from None
                delay = min(delay * 2, 5.0)
        guarantee_for(
            transport="nats" if self.transport else "mqtt",
            shared=self.opts.shared,
            override=self.opts.shared_override,
        ).log()
        self.registry.start_listener()
        self.metrics.serve(self.opts.metrics_port)
        _tune_gc()
        if self.transport is not None:
            self.transport.start(self.queue.put)
            log.info("event=consumer_start transport=nats batch_size=%d", self.opts.batch_size)
            return
        o = self.opts
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
            client.max_inflight_messages_set(o.receive_maximum or 4 * o.batch_size)
        self.client = client
        kwargs = {"keepalive": 30}
        if o.v5:
            kwargs["clean_start"] = False
            kwargs["properties"] = connect_properties(
                session_expiry=o.session_expiry,
                receive_maximum=o.receive_maximum or 4 * o.batch_size,
            )
        client.connect_async(addr.host, addr.port, **kwargs)
        client.loop_start()
        log.info(
            "event=consumer_start client_id=%s broker=%s:%s tls=%s v5=%s shared=%s batch_size=%d batch_wait=%.3f",
            o.client_id,
            addr.host,
            addr.port,
            addr.tls,
            o.v5,
            o.shared,
            o.batch_size,
            o.batch_wait,
        )

    def start(self) -> None:
        """Run until stop(); then flush what was received, commit, ack, disconnect.

        Two stages overlap: this thread collects and validates batch N+1 while the
        writer thread commits and acks batch N (the consumer used to sit idle during
        the COPY and the commit). One batch in the writer at a time keeps the order
        and the memory bounded."""
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        in_writer = None
        next_gc = time.monotonic() + GC_INTERVAL
        try:
            while not self._stopping.is_set():
                if time.monotonic() >= next_gc:
                    gc.collect()
                    next_gc = time.monotonic() + GC_INTERVAL
                batch = self._collect()
                if batch:
                    prepared = self._prepare_safely(batch)
                    if in_writer is not None and not in_writer.result():
                        return
                    in_writer = writer.submit(self._process, batch, prepared)
                self.metrics.maybe_log()
            if in_writer is not None and not in_writer.result():
                return
            # Flush: everything already received is written and acked before leaving.
            while True:
                batch = self._collect(wait=False)
                if not batch:
                    break
                if not writer.submit(self._process, batch, self._prepare_safely(batch)).result():
                    break
        finally:
            writer.shutdown(wait=True)
            self.metrics.maybe_log(force=True)
            self.registry.stop_listener()
            if self.transport is not None:
                self.transport.close()
            if self.client is not None:
                self.client.disconnect()
                self.client.loop_stop()
            log.info("event=consumer_stopped")

    def stop(self) -> None:
        self._stopping.set()

    # -- MQTT callbacks (network thread) -------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("event=mqtt_connect_failed reason=%s", reason_code)
            return
        self._generation += 1
        o = self.opts
        if o.v5 and o.shared:
            telemetry = f"$share/{SHARE_GROUP}/{TELEMETRY_FILTER}"
        else:
            telemetry = TELEMETRY_FILTER
        # Status is subscribed plainly by every consumer: each sees a gateway's status
        # changes in order, so the last one wins everywhere.
        if o.v5:
            # Retained statuses only when the subscription is new, not on every reconnect.
            status_opts = SubscribeOptions(
                qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
            )
            client.subscribe([(telemetry, SubscribeOptions(qos=1)), (STATUS_FILTER, status_opts)])
        else:
            client.subscribe([(telemetry, 1), (STATUS_FILTER, 1)])
        self._connected.set()
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
        self._connected.clear()
        if not self._stopping.is_set():
            log.warning("event=mqtt_disconnected reason=%s", reason_code)

    def _on_message(self, client, userdata, msg):
        self.queue.put(
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

    # -- batching ------------------------------------------------------------
    def _collect(self, *, wait: bool = True) -> list[Received]:
        q = self.queue
        size = self.opts.batch_size
        try:
            first = q.get(timeout=0.2) if wait else q.get_nowait()
        except queue.Empty:
            return []
        batch = [first]
        deadline = first.received_mono + self.opts.batch_wait
        while len(batch) < size:
            try:
                batch.append(q.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not wait:
                break
            try:
                batch.append(q.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _prepare_safely(self, batch: list[Received]) -> "Prepared | None":
        """prepare(), or None when it failed unexpectedly (then the writer takes the
        batch message by message, storing the culprit as an internal error)."""
        try:
            with scopes_disabled():
                return self.prepare(batch)
        except DB_ERRORS:
            return None  # the registry refresh could not reach the database
        except Exception:
            log.exception("event=prepare_failed size=%d fallback=one_by_one", len(batch))
            return None

    def _process(
        self, batch: list[Received], prepared: "Prepared | None" = None, *, give_up_after=5.0
    ) -> bool:
        """Write the batch (retrying DB outages with backoff), then ack it. Returns False
        when it gave up (stopping during an outage): nothing acked, all redelivered later."""
        delay = 0.25
        started_wait = time.monotonic()
        while True:
            try:
                try:
                    with scopes_disabled():
                        if prepared is None:
                            prepared = self.prepare(batch)
                        self.write(prepared)
                except DB_ERRORS:
                    raise
                except Exception:
                    log.exception("event=batch_failed size=%d fallback=one_by_one", len(batch))
                    with scopes_disabled():
                        for item in batch:
                            self._consume_single(item)
                break
            except DB_ERRORS as exc:
                self.metrics.db_retry()
                log.warning(
                    "event=db_error retry_in=%.2f error=%s", delay, str(exc).splitlines()[0][:200]
                )
                try:
                    connection.close()
                except Exception:
                    log.debug("closing a broken connection failed", exc_info=True)
                stopping = self._stopping.is_set()
                if stopping and give_up_after and time.monotonic() - started_wait > give_up_after:
                    log.error("event=flush_abandoned unacked=%d", len(batch))
                    return False
                if stopping:
                    time.sleep(delay)
                else:
                    self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)
        self._ack(batch)
        return True

    def _consume_single(self, item: Received) -> None:
        try:
            self.consume_batch([item])
        except DB_ERRORS:
            raise
        except Exception as exc:
            log.exception("event=message_failed topic=%s", item.topic)
            with transaction.atomic():
                services.rejeitadas_store(
                    items=[self._dead_letter(item, Motivo.INTERNAL_ERROR, repr(exc)[:500], None)]
                )
            self.metrics.batch(
                telemetry=1,
                status=0,
                stored=0,
                duplicates=0,
                rejects=Counter({Motivo.INTERNAL_ERROR: 1}),
                seconds=0,
                ages=[],
            )

    def _ack(self, batch: list[Received]) -> None:
        if self.transport is not None:
            self.transport.ack(batch)
            return
        generation = self._generation
        client = self.client
        for item in batch:
            if item.generation == generation and item.qos > 0:
                client.ack(item.mid, item.qos)

    @staticmethod
    def _dead_letter(item: Received, reason: str, detail: str, gateway) -> dict:
        return {
            "recebida_em": item.received_at,
            "topico": item.topic,
            "payload": item.payload,
            "motivo": reason,
            "detalhe": detail,
            "gateway_id": gateway.id if gateway else None,
            "conta_id": gateway.conta_id if gateway else None,
        }

    # -- the batch -----------------------------------------------------------
    def consume_batch(self, batch: list[Received]) -> InsertResult:
        """Validate and write one batch in one transaction; live events after commit."""
        return self.write(self.prepare(batch))

    def prepare(self, batch: list[Received]) -> "Prepared":
        """Validation and everything else that needs no database but the registry."""
        t0 = time.monotonic()
        self.registry.refresh_if_needed()
        now = dt.datetime.now(tz=dt.UTC)
        p = Prepared(batch=batch, started=t0)
        rows, dead, rejects, states, live = p.rows, p.dead, p.rejects, p.states, p.live
        for item in batch:
            mac, kind = topic_parts(item.topic)
            gateway = self.registry.get(mac) if mac else None
            if kind == "status":
                p.n_status += 1
                self._status(item, gateway, states, dead, rejects)
                continue
            out = parse_telemetry(topic_mac=mac, payload=item.payload, gateway=gateway, now=now)
            if out.reason:
                rejects[out.reason] += 1
                dead.append(self._dead_letter(item, out.reason, out.detail, gateway))
            if gateway is not None and gateway.is_active and out.reason != Motivo.MAC_MISMATCH:
                prev = states.get(gateway.id)
                seen = (
                    item.received_at
                    if prev is None or prev[0] is None
                    else max(prev[0], item.received_at)
                )
                states[gateway.id] = (seen, True)
            if out.rows:
                rows.extend(out.rows)
                live[gateway.conta_id].extend(out.readings)
        return p

    def write(self, p: "Prepared") -> InsertResult:
        """One transaction for the batch's readings, dead letters and gateway status."""
        reset_queries()
        with transaction.atomic():
            result = insert_readings(p.rows) if p.rows else InsertResult(0, 0)
            if p.dead:
                services.rejeitadas_store(items=p.dead)
            changed = services.gateways_touch(
                states=p.states, resolution=self.opts.last_seen_resolution
            )
            transaction.on_commit(lambda: self._publish_live(p.live, changed))
        committed = time.monotonic()
        self.metrics.batch(
            telemetry=len(p.batch) - p.n_status,
            status=p.n_status,
            stored=result.inserted,
            duplicates=result.duplicates,
            rejects=p.rejects,
            seconds=committed - p.started,
            ages=[committed - item.received_mono for item in p.batch],
        )
        return result

    def _status(self, item: Received, gateway, states, dead, rejects) -> None:
        text = item.payload.decode("utf-8", errors="replace").strip().lower()
        if gateway is None or text not in ("online", "offline"):
            reason = Motivo.UNKNOWN_GATEWAY if gateway is None else Motivo.BAD_STATUS
            if gateway is None and not item.payload:
                return  # a cleared retained status of an unknown gateway: nothing to keep
            rejects[reason] += 1
            dead.append(self._dead_letter(item, reason, f"status {text[:40]!r}", gateway))
            return
        if not gateway.is_active:
            return
        online = text == "online"
        prev = states.get(gateway.id)
        seen = prev[0] if prev else None
        if online:
            seen = item.received_at if seen is None else max(seen, item.received_at)
        states[gateway.id] = (seen, online)

    @staticmethod
    def _publish_live(live: dict[int, list], changed: list) -> None:
        for conta_id, pairs in live.items():
            readings = [
                {
                    "gateway_id": row.gateway_id,
                    "dispositivo_id": row.dispositivo_id,
                    "dispositivo_codigo": device.codigo,
                    "time": row.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                    "valor": str(row.valor),
                    "unidade": row.unidade,
                }
                for device, row in pairs[-LIVE_MAX_READINGS:]
            ]
            publish_live_event(conta_id=conta_id, event={"type": "readings", "readings": readings})
        for gateway_id, conta_id, is_online, last_seen in changed:
            publish_live_event(
                conta_id=conta_id,
                event={
                    "type": "gateway_status",
                    "gateway_id": gateway_id,
                    "is_online": is_online,
                    "last_seen": last_seen.isoformat() if last_seen else None,
                },
            )


def _tune_gc() -> None:
    """A batch allocates tens of thousands of small objects (rows, tuples, Decimals) that
    reference counting frees; the cyclic collector, triggered by allocation counts, kept
    rescanning them and the Django heap: a measured 13% of the consumer's CPU. What
    exists after setup is frozen (never scanned again) and automatic collection is off;
    the main loop collects every GC_INTERVAL seconds instead (see IngestWorker.start)."""
    gc.collect()
    gc.freeze()
    gc.disable()


def options_from_settings(**overrides) -> WorkerOptions:
    o = WorkerOptions(url=settings.MQTT_URL, client_id="")
    for name, value in overrides.items():
        if value is not None:
            setattr(o, name, value)
    return o

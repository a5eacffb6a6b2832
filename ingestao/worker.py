"""The ingest worker: a transport (ingestao.transport: MQTT today) feeding the batch
pipeline (ingestao.pipeline: validate -> write -> ack after commit), whose rules are in
ingestao.rules. This module puts them together: setup() / start() / stop(), as the thin
command `start_mqtt_consumer` runs it.
"""

import gc
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django_scopes import scopes_disabled

from .delivery import guarantee_for
from .metrics import IngestMetrics
from .pipeline import DB_ERRORS, GC_INTERVAL, BatchPipeline, warm_up_hooks
from .registry import RegistryCache
from .rules import Prepared
from .transport import MqttOptions, MqttTransport, Received, Transport

log = logging.getLogger(__name__)

__all__ = ["IngestWorker", "Prepared", "Received", "WorkerOptions", "options_from_settings"]


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
    shared_override: str = ""  # "gateways-retry-v5" or "accept-loss" (see ingestao.delivery)
    session_expiry: int = 7 * 86400
    receive_maximum: int = 0  # 0: 4 x batch_size: the batch being committed, the one being
    # validated and room to receive the next (MQTT 3.1.1: the broker's max_inflight_messages)
    metrics_port: int = 0
    metrics_addr: str = "127.0.0.1"
    batch_max_bytes: int = 4 * 1024 * 1024  # a batch also ends at this many payload bytes
    log_interval: float = 10.0
    registry_refresh: float = 60.0
    last_seen_resolution: float = 1.0
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""

    def mqtt(self) -> MqttOptions:
        return MqttOptions(
            url=self.url,
            client_id=self.client_id,
            v5=self.v5,
            shared=self.shared,
            session_expiry=self.session_expiry,
            receive_maximum=self.receive_maximum or 4 * self.batch_size,
            ca_file=self.ca_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
        )


class IngestWorker:
    """`transport`: another Transport (NATS JetStream) instead of MQTT from the options."""

    def __init__(self, options: WorkerOptions, *, transport: Transport | None = None):
        self.opts = options
        self._stopping = threading.Event()
        self.metrics = IngestMetrics(log_interval=options.log_interval)
        self.registry = RegistryCache(refresh_seconds=options.registry_refresh)
        self.transport = transport or MqttTransport(
            options.mqtt(), is_stopping=self._stopping.is_set
        )
        self.pipeline = BatchPipeline(
            transport=self.transport,
            registry=self.registry,
            metrics=self.metrics,
            stopping=self._stopping,
            batch_size=options.batch_size,
            batch_wait=options.batch_wait,
            batch_max_bytes=options.batch_max_bytes,
            last_seen_resolution=options.last_seen_resolution,
        )

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
            transport="mqtt" if isinstance(self.transport, MqttTransport) else "nats",
            shared=self.opts.shared,
            override=self.opts.shared_override,
        ).log()
        self.registry.start_listener()
        self.metrics.serve(self.opts.metrics_port, self.opts.metrics_addr)
        with scopes_disabled():
            warm_up_hooks()
        _tune_gc()
        self.transport.start(self.pipeline.deliver)
        o = self.opts
        log.info(
            "event=consumer_start transport=%s batch_size=%d batch_wait=%.3f",
            self.transport.describe(),
            o.batch_size,
            o.batch_wait,
        )

    def start(self) -> None:
        """Run until stop(); then flush what was received, commit, ack, disconnect."""
        try:
            self.pipeline.run()
        finally:
            self.metrics.maybe_log(force=True)
            self.registry.stop_listener()
            self.transport.close()
            log.info("event=consumer_stopped")

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def consume_batch(self, batch: list[Received]):
        """One batch in-process (tests, benches): see BatchPipeline.consume_batch."""
        return self.pipeline.consume_batch(batch)


def _tune_gc() -> None:
    """A batch allocates tens of thousands of small objects (rows, tuples, Decimals) that
    reference counting frees; the cyclic collector, triggered by allocation counts, kept
    rescanning them and the Django heap: a measured 13% of the consumer's CPU. What
    exists after setup is frozen (never scanned again) and automatic collection is off;
    the pipeline's main loop collects every GC_INTERVAL seconds instead."""
    assert GC_INTERVAL > 0
    gc.collect()
    gc.freeze()
    gc.disable()


def options_from_settings(**overrides) -> WorkerOptions:
    """The worker's options from settings (MQTT_URL and its TLS files, TDS_INGEST_*), then
    the `overrides` that are not None (the command's arguments)."""
    o = WorkerOptions(
        url=settings.MQTT_URL,
        client_id="",
        batch_size=settings.TDS_INGEST_BATCH_SIZE,
        batch_wait=settings.TDS_INGEST_BATCH_WAIT_MS / 1000,
        metrics_port=settings.TDS_INGEST_METRICS_PORT,
        metrics_addr=settings.TDS_INGEST_METRICS_ADDR,
        batch_max_bytes=settings.TDS_INGEST_BATCH_MAX_BYTES,
        ca_file=settings.MQTT_CA_FILE,
        cert_file=settings.MQTT_CERT_FILE,
        key_file=settings.MQTT_KEY_FILE,
    )
    for name, value in overrides.items():
        if value is not None:
            setattr(o, name, value)
    return o

"""The NATS JetStream transport: the same batch pipeline as MQTT, fed from a durable pull
consumer that any number of consumer processes share.

Gateways speak MQTT 3.1.1 to nats-server. The server acknowledges a QoS 1 PUBLISH only
after storing it in its MQTT messages stream `$MQTT_msgs` (subject
`$MQTT.msgs.tds_new.devices.<mac>.telemetry|status`, file storage, replicated, interest
retention). The consumers read that stream through one durable consumer filtered on
telemetry and status, which keeps every such message until a consumer acks it. (The
consumers used to read a stream of their own, `TDS_TELEMETRY`, capturing the plain
subjects; the server feeds it with a publish the PUBACK does not wait for, and it lost
acknowledged messages when its leader node was killed: README.) Each process:

- fetches at most `max_inflight` unacknowledged messages (its bound; the stream's
  consumer also caps all processes together with `max_ack_pending`);
- acks a message only after the transaction holding its rows has committed
  (`Transport.ack`); a JetStream ack names the message, not the connection, so it stays
  valid across reconnects (unlike MQTT packet ids);
- a process that dies leaves its messages unacked: JetStream redelivers them to the
  others after `ack_wait`; one that stops cleanly naks what it did not commit, so they are
  redelivered at once. Redelivery never duplicates in the store (unique key).

nats-py is asyncio: its loop runs in a thread of its own; the pipeline's threads call
`ack()`, which hands the acks to that loop.
"""

import asyncio
import contextlib
import datetime as dt
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from tds_core import wire

from .transport import Received

log = logging.getLogger(__name__)

DURABLE = wire.CONSUMER_NAME


@dataclass
class NatsOptions:
    servers: list[str] = field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    name: str = wire.CONSUMER_NAME
    durable: str = DURABLE
    stream: str = wire.NATS_STREAM
    replicas: int = 1
    batch_size: int = 500
    max_inflight: int = 2000  # this process: the batch committing, the one validated, room
    max_ack_pending: int = 20000  # all processes together
    ack_wait: float = 30.0  # seconds before an unacked message goes to another process
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


def servers_from_url(url: str) -> list[str]:
    return [u.strip() for u in url.split(",") if u.strip()]


class NatsTransport:
    """ingestao's Transport over a JetStream pull consumer (start / ack / close)."""

    def __init__(self, options: NatsOptions, *, is_stopping: Callable[[], bool] = lambda: False):
        self.opts = options
        self._is_stopping = is_stopping
        self._deliver: Callable[[Received], None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="nats-transport", daemon=True)
        self._closing: asyncio.Event | None = None
        self._closed: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._unacked: dict[str, object] = {}  # reply subject -> msg (loop thread only)
        self._acks: set[asyncio.Task] = set()
        self._nc = None
        self.ready = threading.Event()  # stream and consumer exist, fetching

    # -- Transport -----------------------------------------------------------------------
    def describe(self) -> str:
        o = self.opts
        return (
            f"nats servers={','.join(o.servers)} tls={bool(o.ca_file)} stream={o.stream}"
            f" durable={o.durable} max_inflight={o.max_inflight}"
        )

    def start(self, deliver: Callable[[Received], None]) -> None:
        self._deliver = deliver
        self._thread.start()

    def ack(self, items: list[Received]) -> None:
        msgs = [item.mid for item in items]
        self._loop.call_soon_threadsafe(self._spawn_ack, msgs)

    def _spawn_ack(self, msgs) -> None:
        task = self._loop.create_task(self._ack(msgs))
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    def close(self) -> None:
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
            try:  # bounded: a stopping consumer must exit even with no server reachable
                future.result(timeout=8)
            except Exception as exc:
                log.warning("event=nats_close_incomplete error=%r", exc)
            self._thread.join(timeout=2)

    # -- the loop thread -------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    def _tls(self) -> ssl.SSLContext | None:
        o = self.opts
        if not o.ca_file:
            return None
        ctx = ssl.create_default_context(cafile=o.ca_file)
        if o.cert_file:
            ctx.load_cert_chain(o.cert_file, o.key_file)
        return ctx

    async def _main(self) -> None:
        self._closing, self._closed, self._room = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._room.set()
        await self._consume()
        # The loop must outlive _close(), which close() runs on it: returning once closing
        # was set stopped the loop under a _close() still awaiting the disconnect, and
        # close() then waited its whole timeout (8 s of every other clean stop).
        await self._closed.wait()

    async def _consume(self) -> None:
        o = self.opts

        async def disconnected():
            if not self._closing.is_set():
                log.warning("event=nats_disconnected")

        async def reconnected():
            log.info("event=nats_reconnected server=%s", self._nc.connected_url.netloc)

        async def error(exc):
            log.warning("event=nats_error error=%s", exc)

        delay = 0.5
        while True:  # no server reachable yet: keep trying, like a lost database
            try:
                self._nc = await nats.connect(
                    servers=o.servers,
                    name=o.name,
                    tls=self._tls(),
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    allow_reconnect=True,
                    disconnected_cb=disconnected,
                    reconnected_cb=reconnected,
                    error_cb=error,
                )
                break
            except Exception as exc:
                if self._is_stopping() or self._closing.is_set():
                    return
                log.warning("event=nats_connect_failed retry_in=%.1f error=%r", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        js = self._nc.jetstream(timeout=5)
        psub = await self._subscribe(js)
        self.ready.set()
        log.info(
            "event=nats_subscribed stream=%s durable=%s replicas=%d max_inflight=%d ack_wait=%.1f",
            o.stream,
            o.durable,
            o.replicas,
            o.max_inflight,
            o.ack_wait,
        )
        while not self._closing.is_set() and not self._is_stopping():
            room = o.max_inflight - len(self._unacked)
            if room <= 0:
                self._room.clear()
                await self._wait_any(self._room, 0.5)
                continue
            try:
                msgs = await psub.fetch(min(o.batch_size, room), timeout=0.5)
            except NatsTimeout:
                continue
            except Exception as exc:  # a node gone, a leader election: fetch again
                log.warning("event=nats_fetch_failed error=%r", exc)
                await self._wait_any(self._closing, 0.5)
                continue
            now, mono = dt.datetime.now(tz=dt.UTC), time.monotonic()
            for m in msgs:
                self._unacked[m.reply] = m
                self._deliver(
                    Received(0, m, 1, wire.topic_of_subject(m.subject), m.data, now, mono)
                )

    async def _subscribe(self, js):
        """Creates (or keeps) the stream and the durable consumer; retries while the
        cluster has no JetStream leader yet.

        The stream is the server's own `$MQTT_msgs`, created here with exactly the
        settings nats-server gives it (it keeps an existing one): the durable consumer must
        exist before the first gateway publishes, since an interest-retention stream drops
        a message no consumer wants (after acknowledging it to the gateway)."""
        o = self.opts
        stream = StreamConfig(
            name=o.stream,
            subjects=wire.NATS_STREAM_SUBJECTS,
            retention=RetentionPolicy.INTEREST,
            storage=StorageType.FILE,
            num_replicas=o.replicas,
        )
        consumer = ConsumerConfig(
            durable_name=o.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=o.ack_wait,
            max_ack_pending=o.max_ack_pending,
            max_deliver=-1,
            filter_subjects=wire.NATS_SUBJECTS,
        )
        delay = 0.5
        while True:
            try:
                try:
                    await js.add_stream(stream)
                except BadRequestError as exc:  # the server made it with other settings
                    log.warning("event=nats_stream_kept stream=%s error=%s", o.stream, exc)
                try:
                    await js.add_consumer(o.stream, consumer)
                except BadRequestError as exc:  # exists with other settings: keep it
                    log.warning("event=nats_consumer_kept durable=%s error=%s", o.durable, exc)
                await self._legacy_stream(js)
                return await js.pull_subscribe_bind(durable=o.durable, stream=o.stream)
            except Exception as exc:
                if self._is_stopping():
                    raise
                log.warning("event=nats_setup_retry retry_in=%.1f error=%r", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _legacy_stream(self, js) -> None:
        """The stream the consumers read before: deleted once empty (it would keep a copy
        of every message for nobody), else left for an operator to drain, loudly."""
        try:
            info = await js.stream_info(wire.NATS_LEGACY_STREAM)
        except NotFoundError:
            return
        if info.state.messages:
            log.error(
                "event=nats_legacy_stream stream=%s messages=%d: not read any more; drain it"
                " with an older consumer or delete it",
                wire.NATS_LEGACY_STREAM,
                info.state.messages,
            )
        else:
            await js.delete_stream(wire.NATS_LEGACY_STREAM)
            log.info("event=nats_legacy_stream_deleted stream=%s", wire.NATS_LEGACY_STREAM)

    async def _ack(self, msgs) -> None:
        for m in msgs:
            if self._unacked.pop(m.reply, None) is not None:
                try:
                    await m.ack()
                except Exception as exc:  # not sent: redelivered after ack_wait, absorbed
                    log.warning("event=nats_ack_failed error=%s", exc)
        self._room.set()

    async def _close(self) -> None:
        """Naks what was fetched and not committed (redelivered to another process at
        once), sends pending acks, disconnects."""
        try:
            await self._disconnect()
        finally:
            self._closed.set()

    async def _disconnect(self) -> None:
        self._closing.set()
        if self._acks:
            await asyncio.wait(list(self._acks), timeout=3)
        if self._nc is None:
            return
        if self._nc.is_connected:
            for m in list(self._unacked.values()):
                try:
                    await m.nak()
                except Exception:
                    log.debug("nak failed", exc_info=True)
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=2)
        self._unacked.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._nc.close(), 2)

    @staticmethod
    async def _wait_any(event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

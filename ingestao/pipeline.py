"""The consumer's batch pipeline: collect -> validate (ingestao.rules) -> write in one
transaction -> ack through the transport -> after commit: live events and hooks.

Threads: the transport's network thread only queues received messages (`deliver`); the
main thread (`run`) collects batches, by size and by time, and validates batch N+1 while
a writer thread commits and acks batch N. A lost database connection is retried with
backoff while nothing is acked, so the broker keeps every message (persistent session,
QoS 1). A batch that fails for another reason is taken apart by halves (bisection) until
the culprit is a single message, stored as an internal error; the others commit.

Post-commit hook point: `register_committed_hook(fn)`; `fn(committed)` runs after each
batch's transaction has committed, with the batch's readings per account
(`Committed.readings`) and the gateways whose status changed. In the running consumer the
hooks of batch N run in a third thread ("ingest-after") while the writer commits batch
N+1; batch N is acked by that thread only after its hooks ran, in batch order (so the
alarm evaluation costs ingest only what the two threads contend for, not its whole time). The readings of a
redelivered message are in it again (they were not inserted twice): hooks must be
idempotent. A hook that raises a database error (DB_ERRORS: connection lost, deadlock,
serialization failure...) is run again with backoff before the batch is acked, like a
write during an outage; if the consumer stops meanwhile the batch is not acked and the
broker redelivers it (its readings are absorbed by the unique key, the hooks run again).
Any other exception of a hook is a bug: logged, and the batch is acked.
"""

import datetime as dt
import gc
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from django.db import InterfaceError, OperationalError, connection, reset_queries, transaction
from django_scopes import scopes_disabled

from dispositivos.services import StatusChange, gateway_status_publish, gateways_touch
from tds_core.live import publish_live_event
from telemetria.storage import InsertResult, insert_readings

from . import rules, services
from .diagnostics import diagnosticos_store
from .metrics import IngestMetrics
from .models import Motivo
from .registry import RegistryCache
from .transport import Received, Transport

log = logging.getLogger(__name__)

DB_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
GC_INTERVAL = 10.0  # seconds between explicit cyclic-garbage collections (see worker._tune_gc)


# -- after commit -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Committed:
    """What a committed batch stored and changed."""

    readings: dict  # conta id -> [(registry DeviceEntry, telemetria.storage.ReadingRow)]
    status_changes: list[StatusChange]

    def rows_by_conta(self) -> dict[int, list]:
        """conta id -> [ReadingRow] (time, conta_id, gateway_id, dispositivo_id, valor...)."""
        return {conta_id: [row for _, row in pairs] for conta_id, pairs in self.readings.items()}


CommittedHook = Callable[[Committed], None]
_hooks: list[CommittedHook] = []


_warm_ups: list[Callable[[], None]] = []


def register_committed_hook(
    hook: CommittedHook, *, warm_up: Callable[[], None] | None = None
) -> None:
    """Run `hook(committed)` after every committed batch (call from AppConfig.ready);
    `warm_up()`, if given, once when a consumer starts, before it receives anything
    (what the hook would otherwise load on the first batch, inside its latency)."""
    if hook not in _hooks:
        _hooks.append(hook)
    if warm_up is not None and warm_up not in _warm_ups:
        _warm_ups.append(warm_up)


def warm_up_hooks() -> None:
    """The hooks' warm-ups; one that fails is logged and skipped (its hook loads what it
    needs on the first batch instead)."""
    for warm_up in _warm_ups:
        try:
            warm_up()
        except Exception:
            log.warning("event=hook_warm_up_failed warm_up=%r", warm_up, exc_info=True)


def unregister_committed_hook(hook: CommittedHook) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def publish_committed(committed: Committed) -> None:
    """Live events: readings per account, then status changes."""
    for conta_id, pairs in committed.readings.items():
        publish_live_event(conta_id=conta_id, event=rules.readings_event(pairs))
    gateway_status_publish(committed.status_changes)


def run_hooks(committed: Committed, hooks: list[CommittedHook]) -> list[CommittedHook]:
    """Returns the hooks that failed on a database error (to be run again before the ack)."""
    failed = []
    for hook in hooks:
        try:
            hook(committed)
        except DB_ERRORS as exc:
            log.warning(
                "event=committed_hook_db_error hook=%r error=%s",
                hook,
                str(exc).splitlines()[0][:200] if str(exc) else repr(exc),
            )
            failed.append(hook)
        except Exception:
            log.exception("event=committed_hook_failed hook=%r", hook)
    return failed


# -- the pipeline -------------------------------------------------------------------------
class BatchPipeline:
    def __init__(
        self,
        *,
        transport: Transport,
        registry: RegistryCache,
        metrics: IngestMetrics,
        stopping: threading.Event,
        batch_size: int = 500,
        batch_wait: float = 0.05,
        batch_max_bytes: int = 4 * 1024 * 1024,
        last_seen_resolution: float = 1.0,
    ):
        self.transport = transport
        self.registry = registry
        self.metrics = metrics
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.batch_max_bytes = batch_max_bytes
        self.last_seen_resolution = last_seen_resolution
        self._stopping = stopping
        self.queue: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self.deliver = self.queue.put  # the transport's callback
        # (committed, hooks) that failed on a database error, run again before the ack
        self.hooks_pending: list[tuple[Committed, list[CommittedHook]]] = []
        self._finisher: ThreadPoolExecutor | None = None  # hooks + ack, in batch order
        self._finishing = None  # the Future of the batch in the finisher (True: acked)

    def run(self) -> None:
        """Until stopping; then flush what was received: commit, hooks, ack.

        Three stages overlap: this thread collects and validates batch N+2 while the
        writer thread commits batch N+1 and the finisher runs batch N's post-commit hooks
        (the alarm evaluation) and acks it. One batch per stage keeps the order (acks
        and hooks in batch order) and the memory bounded; a batch is acked only after
        its hooks ran, as before."""
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._finisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-after")
        self._finishing = None
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
                    in_writer = writer.submit(self._write_and_hand_over, batch, prepared)
                self.metrics.maybe_log()
            if in_writer is not None and not in_writer.result():
                return
            # Flush: everything already received is written and acked before leaving.
            while True:
                batch = self._collect(wait=False)
                if not batch:
                    break
                prepared = self._prepare_safely(batch)
                if not writer.submit(self._write_and_hand_over, batch, prepared).result():
                    break
            if self._finishing is not None:
                self._finishing.result()
        finally:
            writer.shutdown(wait=True)
            self._finisher.shutdown(wait=True)

    # -- one batch ---------------------------------------------------------------------
    def consume_batch(self, batch: list[Received], *, committed_to=None) -> InsertResult:
        """Validate and write one batch in one transaction; live events after commit (and
        the hooks, unless `committed_to` collects the Committed for the caller to run)."""
        return self.write(self.prepare(batch), committed_to=committed_to)

    def prepare(self, batch: list[Received]) -> rules.Prepared:
        """Validation and everything else that needs no database but the registry."""
        started = time.monotonic()
        self.registry.refresh_if_needed()
        return rules.prepare_batch(
            batch, registry=self.registry, started=started, now=dt.datetime.now(tz=dt.UTC)
        )

    def write(self, p: rules.Prepared, *, committed_to: list | None = None) -> InsertResult:
        """One transaction for the batch's readings, dead letters and gateway status.
        After commit: live events, then the hooks here, or, given `committed_to`, the
        Committed appended to it (the finisher runs the hooks before the ack)."""
        reset_queries()
        with transaction.atomic():
            result = insert_readings(p.rows) if p.rows else InsertResult(0, 0)
            if p.dead:
                services.rejeitadas_store(items=p.dead)
            if p.diagnostics:
                diagnosticos_store(items=p.diagnostics)
            changes = gateways_touch(batch=p.status, resolution=self.last_seen_resolution)
            committed = Committed(readings=p.readings, status_changes=changes)
            transaction.on_commit(lambda: self._after_commit(committed, committed_to))
        done = time.monotonic()
        self.metrics.batch(
            telemetry=len(p.batch) - p.n_status,
            status=p.n_status,
            stored=result.inserted,
            duplicates=result.duplicates,
            rejects=p.rejects,
            seconds=done - p.started,
            ages=[done - item.received_mono for item in p.batch],
        )
        return result

    def _after_commit(self, committed: Committed, committed_to: list | None) -> None:
        publish_committed(committed)
        if committed_to is not None:
            committed_to.append(committed)
            return
        failed = run_hooks(committed, list(_hooks))
        if failed:
            self.hooks_pending.append((committed, failed))

    # -- batching, retries, acks -----------------------------------------------------------
    def _collect(self, *, wait: bool = True) -> list[Received]:
        q = self.queue
        size = self.batch_size
        try:
            first = q.get(timeout=0.2) if wait else q.get_nowait()
        except queue.Empty:
            return []
        batch = [first]
        deadline = first.received_mono + self.batch_wait
        max_bytes = self.batch_max_bytes  # a batch also ends at this many payload bytes
        size_bytes = len(first.payload)
        while len(batch) < size and size_bytes < max_bytes:
            try:
                item = q.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not wait:
                    break
                try:
                    item = q.get(timeout=remaining)
                except queue.Empty:
                    break
            batch.append(item)
            size_bytes += len(item.payload)
        return batch

    def _prepare_safely(self, batch: list[Received]) -> rules.Prepared | None:
        """prepare(), or None when it failed unexpectedly (then the writer takes the
        batch apart by halves, storing the culprit as an internal error)."""
        try:
            with scopes_disabled():
                return self.prepare(batch)
        except DB_ERRORS:
            return None  # the registry refresh could not reach the database
        except Exception:
            log.exception("event=prepare_failed size=%d fallback=bisect", len(batch))
            return None

    def _process(
        self, batch: list[Received], prepared: rules.Prepared | None = None, *, give_up_after=5.0
    ) -> bool:
        """Write the batch (retrying DB outages with backoff), run its hooks, then ack it:
        the writer's and the finisher's parts in one call (tests). Returns False when it gave up (stopping during an outage): nothing acked, all
        redelivered later."""
        committed = self._write_batch(batch, prepared, give_up_after=give_up_after)
        if committed is None:
            return False
        return self._finish(batch, committed, give_up_after=give_up_after)

    def _write_and_hand_over(self, batch: list[Received], prepared) -> bool:
        """The writer thread's part: write batch N, wait for batch N-1's hooks and ack,
        hand batch N to the finisher. False when it gave up (nothing more is acked)."""
        committed = self._write_batch(batch, prepared)
        if committed is None:
            return False
        if self._finishing is not None and not self._finishing.result():
            return False  # batch N-1 was left unacked: so is this one (redelivered)
        self._finishing = self._finisher.submit(self._finish, batch, committed)
        return True

    def _write_batch(
        self, batch: list[Received], prepared: rules.Prepared | None = None, *, give_up_after=5.0
    ) -> list[Committed] | None:
        """Write the batch, retrying DB outages with backoff; returns what was committed
        (one Committed, or one per part when the batch had to be taken apart), or None
        when it gave up."""
        delay = 0.25
        started_wait = time.monotonic()
        while True:
            committed: list[Committed] = []
            try:
                try:
                    with scopes_disabled():
                        if prepared is None:
                            prepared = self.prepare(batch)
                        self.write(prepared, committed_to=committed)
                except DB_ERRORS:
                    raise
                except Exception:
                    log.exception("event=batch_failed size=%d fallback=bisect", len(batch))
                    committed = []
                    with scopes_disabled():
                        self._isolate(batch, committed)
                return committed
            except DB_ERRORS as exc:
                self.metrics.db_retry()
                log.warning(
                    "event=db_error retry_in=%.2f error=%s", delay, str(exc).splitlines()[0][:200]
                )
                if not self._pause_before_retry(delay, started_wait, give_up_after):
                    log.error("event=flush_abandoned unacked=%d", len(batch))
                    return None
                delay = min(delay * 2, 5.0)

    def _finish(self, batch: list[Received], committed: list[Committed], *, give_up_after=5.0):
        """Run the committed batch's hooks (again, with backoff, those that failed on a
        database error), then ack it. False when stopping gave up on them: not acked."""
        for c in committed:
            with scopes_disabled():
                failed = run_hooks(c, list(_hooks))
            if failed:
                self.hooks_pending.append((c, failed))
        if not self._retry_hooks(give_up_after):
            return False
        self.transport.ack(batch)
        self.metrics.acked(len(batch))
        return True

    def _retry_hooks(self, give_up_after) -> bool:
        """Run again, with backoff, the hooks that failed on a database error (an alarm
        evaluation cut by an outage must not be lost). False when stopping gave up on
        them: the batch is then not acked and the broker redelivers it."""
        delay = 0.25
        started_wait = time.monotonic()
        while self.hooks_pending:
            if not self._pause_before_retry(delay, started_wait, give_up_after):
                log.error("event=hooks_abandoned unacked_batch=1")
                self.hooks_pending.clear()
                return False
            delay = min(delay * 2, 5.0)
            self.metrics.db_retry()
            pending, self.hooks_pending = self.hooks_pending, []
            for committed, hooks in pending:
                with scopes_disabled():
                    failed = run_hooks(committed, hooks)
                if failed:
                    self.hooks_pending.append((committed, failed))
        return True

    def _pause_before_retry(self, delay: float, started_wait: float, give_up_after) -> bool:
        """Between retries after a database error: drop the broken connection, wait `delay`
        (cut short if stopping is set meanwhile; once stopping, the flush still waits it
        out). False, without waiting, once stopping and retrying for over `give_up_after` s."""
        try:
            connection.close()  # a broken connection is not reused
        except Exception:
            log.debug("closing a broken connection failed", exc_info=True)
        stopping = self._stopping.is_set()
        if stopping and give_up_after and time.monotonic() - started_wait > give_up_after:
            return False
        if stopping:
            time.sleep(delay)
        else:
            self._stopping.wait(delay)
        return True

    def _isolate(self, batch: list[Received], committed_to: list | None = None) -> None:
        """Store what can be stored of a batch whose transaction failed: each half in its
        own transaction, halving again the half that fails, until the culprit is a single
        message, stored as an internal-error dead letter. One bad message among n costs
        about 2·log2(n) transactions (a message at a time took n: 301 messages, ~2 s)."""
        mid = len(batch) // 2
        for half in (batch[:mid], batch[mid:]):
            try:
                self.consume_batch(half, committed_to=committed_to)
            except DB_ERRORS:
                raise
            except Exception as exc:
                if len(half) > 1:
                    self._isolate(half, committed_to)
                else:
                    self._internal_error(half[0], exc)

    def _internal_error(self, item: Received, exc: Exception) -> None:
        log.error("event=message_failed topic=%s error=%r", item.topic, exc)
        with transaction.atomic():
            services.rejeitadas_store(
                items=[rules.dead_letter(item, Motivo.INTERNAL_ERROR, repr(exc)[:500], None)]
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

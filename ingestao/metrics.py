"""Consumer counters: Prometheus metrics plus a periodic structured log line."""

import logging
import time
from collections import Counter as Tally

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger("ingestao.metrics")


class IngestMetrics:
    def __init__(self, *, log_interval: float = 10.0):
        self.registry = CollectorRegistry()
        r = self.registry
        self.p_messages = Counter(
            "tds_ingest_messages", "MQTT messages received", ["kind"], registry=r
        )
        self.p_stored = Counter("tds_ingest_readings_stored", "Readings inserted", registry=r)
        self.p_dups = Counter(
            "tds_ingest_readings_duplicate", "Readings already stored", registry=r
        )
        self.p_rejects = Counter("tds_ingest_rejected", "Rejected messages", ["reason"], registry=r)
        self.p_batches = Counter("tds_ingest_batches", "Committed batches", registry=r)
        self.p_acked = Counter(
            "tds_ingest_messages_acked",
            "Messages acknowledged (stored and the post-commit hooks run)",
            registry=r,
        )
        self.p_retries = Counter(
            "tds_ingest_db_retries", "Batch retries after DB errors", registry=r
        )
        self.p_latency = Histogram(
            "tds_ingest_batch_seconds",
            "Batch processing time (validate + write + commit)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.p_age = Histogram(
            "tds_ingest_receive_to_commit_seconds",
            "From MQTT receipt to commit, per message",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.totals = Tally()
        self.rejects = Tally()
        self.log_interval = log_interval
        self._last_log = time.monotonic()

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """The Prometheus endpoint, on loopback unless TDS_INGEST_METRICS_ADDR says
        otherwise (it has no authentication)."""
        if port:
            start_http_server(port, addr=addr, registry=self.registry)

    def batch(self, *, telemetry, status, stored, duplicates, rejects: Tally, seconds, ages):
        t = self.totals
        t["messages"] += telemetry + status
        t["stored"] += stored
        t["duplicates"] += duplicates
        t["batches"] += 1
        self.p_messages.labels("telemetry").inc(telemetry)
        self.p_messages.labels("status").inc(status)
        self.p_stored.inc(stored)
        self.p_dups.inc(duplicates)
        self.p_batches.inc()
        self.p_latency.observe(seconds)
        for reason, n in rejects.items():
            self.rejects[reason] += n
            t["rejected"] += n
            self.p_rejects.labels(reason).inc(n)
        for age in ages:
            self.p_age.observe(age)

    def acked(self, n: int) -> None:
        self.totals["acked"] += n
        self.p_acked.inc(n)

    def db_retry(self):
        self.totals["db_retries"] += 1
        self.p_retries.inc()

    def maybe_log(self, *, force: bool = False, **extra) -> None:
        now = time.monotonic()
        if not force and now - self._last_log < self.log_interval:
            return
        self._last_log = now
        fields = {**dict(self.totals), **{f"rejected_{k}": v for k, v in self.rejects.items()}}
        fields.update(extra)
        line = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        log.info("event=ingest_stats %s", line)

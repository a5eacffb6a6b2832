"""Thin command: the ingest worker fed by the NATS JetStream transport
(ingestao.nats_transport). Run as many as needed, on any hosts: they share one durable
consumer. SIGTERM/SIGINT stops, flushes, commits, acks and exits 0."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from ingestao.mqtt import default_client_id
from ingestao.nats_transport import NatsOptions, NatsTransport, servers_from_url
from ingestao.worker import IngestWorker, options_from_settings
from tds_core import wire


class Command(BaseCommand):
    help = "Consume gateway telemetry from NATS JetStream into the database (ack after commit)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="NATS URL(s), comma-separated")
        parser.add_argument("--instance", type=int, default=1, help="instance number (name)")
        parser.add_argument("--batch-size", type=int, default=settings.TDS_INGEST_BATCH_SIZE)
        parser.add_argument("--batch-wait-ms", type=int, default=settings.TDS_INGEST_BATCH_WAIT_MS)
        parser.add_argument(
            "--max-inflight",
            type=int,
            default=0,
            help="unacked messages this process holds (default 4 x batch size)",
        )
        parser.add_argument("--max-ack-pending", type=int, default=20000, help="all processes")
        parser.add_argument("--ack-wait", type=float, default=settings.TDS_NATS_ACK_WAIT)
        parser.add_argument("--replicas", type=int, default=settings.TDS_NATS_REPLICAS)
        parser.add_argument("--metrics-port", type=int, default=settings.TDS_INGEST_METRICS_PORT)
        parser.add_argument("--log-interval", type=float, default=10.0)
        parser.add_argument("--registry-refresh", type=float, default=60.0)

    def handle(self, *args, **o):
        batch_size = max(1, o["batch_size"])
        name = default_client_id(wire.CONSUMER_NAME, o["instance"])
        transport = NatsTransport(
            NatsOptions(
                servers=servers_from_url(o["url"] or settings.NATS_URL),
                name=name,
                replicas=max(1, o["replicas"]),
                batch_size=batch_size,
                max_inflight=o["max_inflight"] or 4 * batch_size,
                max_ack_pending=o["max_ack_pending"],
                ack_wait=o["ack_wait"],
                ca_file=settings.NATS_CA_FILE,
                cert_file=settings.NATS_CERT_FILE,
                key_file=settings.NATS_KEY_FILE,
            ),
            is_stopping=lambda: worker.stopping,
        )
        worker = IngestWorker(
            options_from_settings(
                client_id=name,
                batch_size=batch_size,
                batch_wait=max(0, o["batch_wait_ms"]) / 1000,
                metrics_port=o["metrics_port"],
                log_interval=o["log_interval"],
                registry_refresh=o["registry_refresh"],
            ),
            transport=transport,
        )

        def _stop(signum, frame):
            worker.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        worker.setup()
        worker.start()

"""Thin command around ingestao.worker.IngestWorker: one SIGTERM/SIGINT handler that
stops the worker, which flushes, commits, acks and returns; the command exits 0."""

import logging
import signal

from django.core.management.base import BaseCommand, CommandError

from ingestao.agent_config import ConfigPublisher
from ingestao.delivery import ACCEPT_LOSS, GATEWAYS_RETRY_V5, DeliveryMisconfigured, guarantee_for
from ingestao.mqtt import default_client_id
from ingestao.worker import IngestWorker, options_from_settings
from tds_core import wire

log = logging.getLogger("ingestao.worker")


class Command(BaseCommand):
    help = "Consume gateway telemetry from MQTT into the database (ack after commit)."

    def add_arguments(self, parser):
        # Defaults: settings (MQTT_URL, MQTT_*_FILE, TDS_INGEST_*) or WorkerOptions.
        parser.add_argument("--url", default=None, help="MQTT URL (default settings.MQTT_URL)")
        parser.add_argument("--instance", type=int, default=1, help="instance number (client id)")
        parser.add_argument("--client-id", default=None, help="fixed MQTT client id")
        parser.add_argument("--batch-size", type=int, default=None, help="messages per batch (max)")
        parser.add_argument(
            "--batch-wait-ms",
            type=int,
            default=None,
            help="max wait from a batch's first message before writing it",
        )
        parser.add_argument("--receive-maximum", type=int, default=None)
        parser.add_argument(
            "--protocol",
            choices=["v5", "v311"],
            default="v5",
            help="v311: plain (non-shared) subscription for MQTT 3.1.1 brokers",
        )
        parser.add_argument(
            "--shared",
            action="store_true",
            help="share the stream with other consumers ($share/tds-ingest, MQTT v5); refused "
            "unless --gateways-retry-v5 or --accept-loss-window says what covers the window "
            "after a broker restart (Mosquitto does not save shared subscriptions)",
        )
        parser.add_argument(
            "--gateways-retry-v5",
            action="store_true",
            help="with --shared: every gateway speaks MQTT v5 and resends on PUBACK 0x10/>=0x80",
        )
        parser.add_argument(
            "--accept-loss-window",
            action="store_true",
            help="with --shared: run anyway, losing what is published during a broker restart",
        )
        parser.add_argument(
            "--no-shared", action="store_true", help="plain subscription (the default; kept)"
        )
        parser.add_argument(
            "--metrics-port", type=int, default=None, help="Prometheus endpoint port (0: off)"
        )
        parser.add_argument("--log-interval", type=float, default=None)
        parser.add_argument("--registry-refresh", type=float, default=None)
        parser.add_argument("--session-expiry", type=int, default=None)
        parser.add_argument("--ca-file", default=None)
        parser.add_argument("--cert-file", default=None)
        parser.add_argument("--key-file", default=None)
        parser.add_argument(
            "--no-config-publisher",
            action="store_true",
            help="do not publish gateway configs (ingestao/agent_config.py) from this process",
        )

    def handle(self, *args, **o):
        v5 = o["protocol"] == "v5"
        shared = v5 and o["shared"] and not o["no_shared"]
        override = (
            GATEWAYS_RETRY_V5
            if o["gateways_retry_v5"]
            else ACCEPT_LOSS
            if o["accept_loss_window"]
            else ""
        )
        try:
            guarantee_for(transport="mqtt", shared=shared, override=override)
        except DeliveryMisconfigured as exc:
            log.error("event=delivery_misconfigured error=%r", str(exc))
            raise CommandError(str(exc)) from None
        batch_size, batch_wait_ms = o["batch_size"], o["batch_wait_ms"]
        worker = IngestWorker(
            options_from_settings(
                url=o["url"],
                client_id=o["client_id"]
                or default_client_id(wire.CONSUMER_NAME, o["instance"], cert_file=o["cert_file"]),
                batch_size=None if batch_size is None else max(1, batch_size),
                batch_wait=None if batch_wait_ms is None else max(0, batch_wait_ms) / 1000,
                v5=v5,
                shared=shared,
                shared_override=override,
                receive_maximum=o["receive_maximum"],
                metrics_port=o["metrics_port"],
                log_interval=o["log_interval"],
                registry_refresh=o["registry_refresh"],
                session_expiry=o["session_expiry"],
                ca_file=o["ca_file"],
                cert_file=o["cert_file"],
                key_file=o["key_file"],
            )
        )

        def _stop(signum, frame):
            worker.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        worker.setup()
        publisher = None
        if not o["no_config_publisher"]:
            publisher = ConfigPublisher(
                client=worker.transport.client, registry=worker.registry
            ).start()
        try:
            worker.start()
        finally:
            if publisher is not None:
                publisher.stop()

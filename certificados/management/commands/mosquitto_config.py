"""python manage.py mosquitto_config --out DIR [--port N] — the broker's mTLS setup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certificados import mosquitto
from certificados.pki import ca as pki


class Command(BaseCommand):
    help = (
        "Writes mosquitto.conf (TLS listener requiring client certificates), acl, ca.crt, "
        "crl.pem, server.crt/key and the consumer's consumer.crt/key into DIR. "
        "Run the broker with: mosquitto -c DIR/mosquitto.conf"
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--port", type=int, default=8883)
        parser.add_argument("--bind", default="", help="listen address (default: all)")
        parser.add_argument(
            "--host",
            action="append",
            default=[],
            help="extra name/IP in the broker certificate (repeatable); "
            "127.0.0.1 and localhost are always there",
        )
        parser.add_argument(
            "--consumers",
            type=int,
            default=1,
            help="consumer instances, one certificate each: consumer.crt (CN tds-ingest-1), "
            "consumer-2.crt (CN tds-ingest-2)...; run instance N with its own certificate",
        )
        parser.add_argument("--user", default="", help="`user` line (default: current user)")
        parser.add_argument("--max-queued-messages", type=int, default=1_000_000)
        parser.add_argument("--max-queued-bytes", type=int, default=1024 * 1024 * 1024)
        parser.add_argument("--renew", action="store_true", help="reissue server/consumer certs")

    def handle(self, *args, **o):
        opts = mosquitto.BrokerOptions(
            out=o["out"],
            port=o["port"],
            bind=o["bind"],
            user=o["user"],
            max_queued_messages=o["max_queued_messages"],
            max_queued_bytes=o["max_queued_bytes"],
        )
        try:
            written = mosquitto.broker_files_write(
                opts, hosts=tuple(o["host"]), consumers=max(1, o["consumers"]), renew=o["renew"]
            )
        except pki.PkiError as exc:
            raise CommandError(str(exc)) from None
        out = o["out"].resolve()
        self.stdout.write(f"wrote {', '.join(written)} in {out}")
        self.stdout.write(f"run:      mosquitto -c {out}/mosquitto.conf")
        self.stdout.write(
            f"consumer: MQTT_URL=mqtts://localhost:{o['port']} MQTT_CA_FILE={out}/ca.crt "
            f"MQTT_CERT_FILE={out}/consumer.crt MQTT_KEY_FILE={out}/consumer.key"
        )
        self.stdout.write(
            f"revocations: set TDS_MOSQUITTO_DIR={out} so the CRL is copied here and the "
            "broker gets a SIGHUP (pid file in that directory)"
        )

"""python manage.py pki_crl — rewrites the CRL from the database and reloads the broker
(after restoring a backup, moving the broker directory, or by hand at any time)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificados import broker, services
from certificados.pki import ca as pki


class Command(BaseCommand):
    help = "Rewrites crl.pem (TDS_PKI_DIR and TDS_MOSQUITTO_DIR) and reloads the broker."

    def add_arguments(self, parser):
        parser.add_argument("--no-reload", action="store_true")

    def handle(self, *args, no_reload, **options):
        try:
            services.crl_publish(reload=False)
        except pki.PkiError as exc:
            raise CommandError(str(exc)) from None
        done = "not reloaded" if no_reload else f"reload: {broker.broker_reload()}"
        self.stdout.write(f"CRL written to {settings.TDS_PKI_DIR / pki.CRL_FILE} ({done})")

"""python manage.py pki_init [--force] — creates the platform CA under TDS_PKI_DIR."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificados.pki import ca as pki


class Command(BaseCommand):
    help = "Creates the platform CA (ca.key mode 0600, ca.crt, empty crl.pem) in TDS_PKI_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="replace an existing CA")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="create the CA only when there is none (make run); otherwise do nothing",
        )
        parser.add_argument("--cn", default="TDS New Platform CA", help="CA common name")
        parser.add_argument("--days", type=int, default=3650, help="CA validity in days")

    def handle(self, *args, force, cn, days, if_missing=False, **options):
        pki_dir = settings.TDS_PKI_DIR
        if if_missing and pki.ca_exists(pki_dir):
            self.stdout.write(f"CA present in {pki_dir}")
            return
        try:
            ca = pki.ca_create(pki_dir=pki_dir, common_name=cn, days=days, force=force)
        except pki.PkiError as exc:
            raise CommandError(str(exc)) from None
        if force:
            self.stderr.write(
                "CA replaced: every certificate issued by the old CA is now useless; "
                "regenerate the broker config (mosquitto_config) and reissue gateways."
            )
        self.stdout.write(
            f"CA created in {pki_dir}: {pki.CA_CERT} (fingerprint {pki.fingerprint_sha256(ca.cert)}),"
            f" {pki.CA_KEY} (mode 0600, keep it off the database and backups you do not trust)"
        )

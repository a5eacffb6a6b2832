"""python manage.py issue_gateway_cert <MAC> --out DIR [--csr FILE]"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from certificados import services
from certificados.pki import ca as pki
from dispositivos.models import Gateway
from tds_core.wire import normalize_mac


class Command(BaseCommand):
    help = (
        "Issues a client certificate for a registered gateway; writes <MAC>.crt, ca.crt and, "
        "without --csr, <MAC>.key (generated here, mode 0600, not kept by the platform)."
    )

    def add_arguments(self, parser):
        parser.add_argument("mac")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--csr", type=Path, help="PEM CSR made on the gateway (preferred)")
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, mac, out, csr, days, **options):
        normalized = normalize_mac(mac)
        if normalized is None:
            raise CommandError(f"{mac!r} is not a MAC address")
        csr_pem = None
        if csr is not None:
            try:
                csr_pem = csr.read_bytes()
            except OSError as exc:
                raise CommandError(f"--csr: {exc}") from None
        with scopes_disabled():
            try:
                gateway = Gateway.objects.get(mac=normalized)
            except Gateway.DoesNotExist:
                raise CommandError(f"no gateway with MAC {normalized} is registered") from None
            try:
                issued = services.certificado_issue(gateway=gateway, csr_pem=csr_pem, days=days)
            except ValidationError as exc:
                msgs = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                raise CommandError(msgs) from None
        cert = issued.certificado
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{normalized}.crt").write_text(cert.certificado_pem)
        (out / pki.CA_CERT).write_bytes((settings.TDS_PKI_DIR / pki.CA_CERT).read_bytes())
        if issued.key_pem is not None:
            pki.write_private(out / f"{normalized}.key", issued.key_pem)
        self.stdout.write(
            f"issued {normalized}.crt serial {cert.serial}, valid until "
            f"{cert.not_after:%Y-%m-%d}, in {out}"
        )

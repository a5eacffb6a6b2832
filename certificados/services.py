"""Writes: issuing and revoking gateway certificates, publishing the CRL, the download."""

import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from dispositivos.models import Gateway
from tds_core.wire import normalize_mac

from . import broker
from .models import EXPIRING_DAYS, CertificadoDevice, Origem, RevocationReason, Revogacao
from .pki import ca as pki
from .readme import bundle_readme

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Issued:
    certificado: CertificadoDevice
    key_pem: bytes | None  # only when generated here; never stored


def _ca() -> pki.CA:
    try:
        return pki.ca_load(settings.TDS_PKI_DIR)
    except pki.PkiError:
        raise ValidationError(
            {
                "__all__": _(
                    "A CA da plataforma ainda não existe. Um administrador do servidor deve"
                    " criá-la com o comando: python manage.py pki_init"
                )
            }
        ) from None


def certificado_issue(
    *, gateway: Gateway, issued_by=None, csr_pem: bytes | str | None = None, days: int | None = None
) -> Issued:
    """Issues a client certificate with CN = the gateway's normalized MAC.

    With `csr_pem` the gateway keeps its key; without it a key is generated here and
    returned once (Issued.key_pem), never stored.
    """
    mac = normalize_mac(gateway.mac)
    if mac is None:
        raise ValidationError({"__all__": _("O MAC do gateway não é um endereço MAC válido.")})
    ca = _ca()
    key = None
    if csr_pem:
        try:
            csr = pki.csr_load(csr_pem)
        except pki.CsrError as exc:
            raise ValidationError({"csr": str(exc)}) from None
        cn = pki.csr_common_name(csr)
        if normalize_mac(cn) != mac:
            raise ValidationError(
                {
                    "csr": _("o CN do CSR é “%(cn)s”, mas deve ser o MAC deste gateway (%(mac)s)")
                    % {"cn": cn, "mac": mac}
                }
            )
        public_key = csr.public_key()
    else:
        key = pki.new_key()
        public_key = key.public_key()
    serial = x509.random_serial_number()
    cert = pki.sign_leaf(
        ca=ca,
        public_key=public_key,
        common_name=mac,
        days=days or settings.TDS_CERT_VALIDITY_DAYS,
        serial=serial,
        uris=(pki.certificate_uri(serial),),  # its own NATS user (certificados/nats.py)
    )
    certificado = CertificadoDevice(
        conta_id=gateway.conta_id,
        gateway=gateway,
        common_name=mac,
        serial=format(cert.serial_number, "x"),
        fingerprint_sha256=pki.fingerprint_sha256(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        issuer=cert.issuer.rfc4514_string(),
        certificado_pem=pki.cert_pem(cert).decode(),
        origem=Origem.CSR if key is None else Origem.SERVER,
        issued_by=issued_by,
    )
    certificado.full_clean()
    certificado.save()
    logger.info("certificate %s issued for gateway %s", certificado.serial, mac)
    return Issued(certificado=certificado, key_pem=None if key is None else pki.key_pem(key))


_REASONS = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
}


def certificado_revoke(
    *, certificado: CertificadoDevice, reason: str, revoked_by=None
) -> CertificadoDevice:
    """Revokes, then (after commit) rewrites the CRL and reloads the broker; the returned
    certificate's `broker_reload` says how the broker was reloaded (broker.broker_reload:
    "command", "sighup", "failed", "none"; absent while an outer transaction is open).

    For a key compromise the gateway is also disabled (its readings are refused as from
    an inactive gateway, whatever still reaches the broker) and, after the CRL reload,
    its open broker connection is dropped (a reload alone only refuses new ones)."""
    if reason not in RevocationReason.values:
        raise ValidationError(
            {"reason": _("motivo de revogação inválido: %(reason)s") % {"reason": reason}}
        )
    with transaction.atomic():
        with scopes_disabled():  # the caller holds the row; signals run outside any scope
            locked = CertificadoDevice.objects.select_for_update().get(pk=certificado.pk)
        if locked.revoked_at is not None:
            raise ValidationError({"__all__": _("este certificado já foi revogado")})
        locked.revoked_at = timezone.now()
        locked.revocation_reason = reason
        locked.revoked_by = revoked_by
        locked.full_clean()
        locked.save(update_fields=["revoked_at", "revocation_reason", "revoked_by", "updated_at"])
        Revogacao.objects.create(
            serial=locked.serial,
            common_name=locked.common_name,
            revoked_at=locked.revoked_at,
            reason=reason,
            not_after=locked.not_after,
            conta_id_original=locked.conta_id,
        )
        transaction.on_commit(lambda: setattr(locked, "broker_reload", crl_publish()))
        if reason == RevocationReason.KEY_COMPROMISE and locked.gateway_id is not None:
            _gateway_disable(locked.gateway_id)
            cn = locked.common_name
            transaction.on_commit(lambda: broker.broker_disconnect(common_name=cn))
    logger.info("certificate %s (%s) revoked: %s", locked.serial, locked.common_name, reason)
    return locked


def _gateway_disable(gateway_id: int) -> None:
    from dispositivos.services import gateway_update

    with scopes_disabled():
        gateway = Gateway.objects.get(pk=gateway_id)
        if gateway.is_active:
            gateway_update(gateway=gateway, is_active=False)


def crl_publish(*, reload: bool = True, extra_paths=()) -> str:
    """Writes the CRL of every revocation record (all accounts: one CA, one CRL; the
    records outlive accounts and certificate rows) to TDS_PKI_DIR/crl.pem and to the
    broker's directory, then reloads the broker; returns broker.broker_reload()'s answer
    ("not reloaded" with reload=False)."""
    ca = pki.ca_load(settings.TDS_PKI_DIR)
    revoked = [
        pki.Revoked(
            serial=int(r.serial, 16), revoked_at=r.revoked_at, reason=_REASONS.get(r.reason)
        )
        for r in Revogacao.objects.order_by("pk")
    ]
    extra = list(extra_paths)
    if settings.TDS_MOSQUITTO_DIR:
        extra.append(Path(settings.TDS_MOSQUITTO_DIR) / pki.CRL_FILE)
    pki.write_crl(ca=ca, revoked=revoked, days=settings.TDS_CRL_VALIDITY_DAYS, extra_paths=extra)
    if not reload:
        return "not reloaded"
    return broker.broker_reload()


def crl_refresh_if_due(*, margin_days: int = 30) -> bool:
    """Republishes the CRL before its nextUpdate: Mosquitto refuses every client once
    the CRL it holds has expired."""
    path = settings.TDS_PKI_DIR / pki.CRL_FILE
    try:
        crl = x509.load_pem_x509_crl(path.read_bytes())
    except (FileNotFoundError, ValueError):
        due = True
    else:
        due = crl.next_update_utc <= timezone.now() + timedelta(days=margin_days)
    if due:
        crl_publish()
    return due


def certificados_flag_expiring(*, now=None) -> list[CertificadoDevice]:
    """Flags (once) unrevoked certificates expiring within 30 days and logs each one."""
    now = now or timezone.now()
    flagged = []
    with scopes_disabled():
        qs = CertificadoDevice.objects.filter(
            revoked_at__isnull=True,
            expiry_notified_at__isnull=True,
            not_after__gt=now,
            not_after__lte=now + timedelta(days=EXPIRING_DAYS),
        ).select_related("gateway", "conta")
        for cert in qs:
            cert.expiry_notified_at = now
            cert.save(update_fields=["expiry_notified_at", "updated_at"])
            logger.warning(
                "certificate of gateway %s (account %s) expires on %s: issue a new one",
                cert.common_name,
                cert.conta.nome,
                cert.not_after.isoformat(),
            )
            flagged.append(cert)
    return flagged


def bundle_zip(*, certificado: CertificadoDevice, key_pem: bytes | None = None) -> bytes:
    """The download: <mac>.crt, <mac>.key (only when given), ca.crt and README.txt."""
    ca_pem = (settings.TDS_PKI_DIR / pki.CA_CERT).read_bytes()
    name = bundle_basename(certificado)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}.crt", certificado.certificado_pem)
        if key_pem is not None:
            zf.writestr(f"{name}.key", key_pem)
        zf.writestr("ca.crt", ca_pem)
        zf.writestr(
            "README.txt", bundle_readme(certificado=certificado, has_key=key_pem is not None)
        )
    return buf.getvalue()


def _held_key_cache_key(*, certificado: CertificadoDevice, user) -> str:
    return f"certificados:chave:{certificado.pk}:{user.pk}"


def issued_key_hold(*, certificado: CertificadoDevice, user, key_pem: bytes) -> None:
    """Keeps a key generated on issue for one download by `user` (the issue page comes
    first, then the download), for at most TDS_CERT_KEY_HOLD_SECONDS, in the cache only."""
    cache.set(
        _held_key_cache_key(certificado=certificado, user=user),
        key_pem,
        timeout=settings.TDS_CERT_KEY_HOLD_SECONDS,
    )


def issued_key_is_held(*, certificado: CertificadoDevice, user) -> bool:
    return cache.has_key(_held_key_cache_key(certificado=certificado, user=user))


def issued_key_take(*, certificado: CertificadoDevice, user) -> bytes | None:
    """The held key, once: removed as it is read (None when expired, taken or never held;
    of two downloads at once, only the one whose delete removed it gets it)."""
    key = _held_key_cache_key(certificado=certificado, user=user)
    key_pem = cache.get(key)
    return key_pem if key_pem is not None and cache.delete(key) else None


def bundle_basename(certificado: CertificadoDevice) -> str:
    """File names carry the MAC with hyphens (aa-bb-cc-dd-ee-ff): a colon is refused by
    Windows and by some zip tools."""
    return certificado.common_name.replace(":", "-")

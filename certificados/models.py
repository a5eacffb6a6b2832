"""Per-gateway X.509 certificates issued by the platform CA.

Only public material is stored (the certificate); a key generated on the server is
handed out once in the download and never written anywhere.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contas.models import ContaOwnedModel

EXPIRING_DAYS = 30


class Status(models.TextChoices):
    VALID = "valid", _("válido")
    EXPIRING = "expiring", _("expirando")
    EXPIRED = "expired", _("expirado")
    REVOKED = "revoked", _("revogado")
    NONE = "none", _("sem certificado")


class RevocationReason(models.TextChoices):
    # Names follow cryptography's x509.ReasonFlags (RFC 5280).
    UNSPECIFIED = "unspecified", _("não especificado")
    KEY_COMPROMISE = "key_compromise", _("chave comprometida")
    AFFILIATION_CHANGED = "affiliation_changed", _("mudança de vínculo")
    SUPERSEDED = "superseded", _("substituído")
    CESSATION_OF_OPERATION = "cessation_of_operation", _("gateway desativado")


class Origem(models.TextChoices):
    CSR = "csr", _("CSR do gateway")
    SERVER = "server", _("chave gerada no servidor")


class CertificadoDevice(ContaOwnedModel):
    gateway = models.ForeignKey(
        "dispositivos.Gateway",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="certificados",
        verbose_name=_("gateway"),
        help_text=_(
            "Vazio quando o gateway foi excluído: o certificado fica no histórico e na CRL."
        ),
    )
    common_name = models.CharField(_("CN"), max_length=64)
    serial = models.CharField(_("número de série"), max_length=64, unique=True)
    fingerprint_sha256 = models.CharField(_("impressão digital SHA-256"), max_length=95)
    not_before = models.DateTimeField(_("válido desde"))
    not_after = models.DateTimeField(_("válido até"))
    issuer = models.CharField(_("emissor"), max_length=255)
    certificado_pem = models.TextField(_("certificado (PEM)"))
    origem = models.CharField(_("origem da chave"), max_length=8, choices=Origem.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("emitido por"),
    )
    revoked_at = models.DateTimeField(_("revogado em"), null=True, blank=True)
    revocation_reason = models.CharField(
        _("motivo da revogação"), max_length=32, choices=RevocationReason.choices, blank=True
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revogado por"),
    )
    expiry_notified_at = models.DateTimeField(
        _("aviso de expiração em"),
        null=True,
        blank=True,
        help_text=_("Quando o job de expiração sinalizou que vence em menos de 30 dias."),
    )

    class Meta:
        db_table = "tds_new_certificado_device"
        ordering = ["-not_before", "-pk"]
        indexes = [models.Index(fields=["conta", "gateway", "-not_before"])]
        verbose_name = _("certificado")
        verbose_name_plural = _("certificados")

    def __str__(self):
        return f"{self.common_name} #{self.serial[:16]}"

    def status_at(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.not_after <= now:
            return Status.EXPIRED
        if self.not_after <= now + timedelta(days=EXPIRING_DAYS):
            return Status.EXPIRING
        return Status.VALID

    @property
    def status(self) -> str:
        return self.status_at()

    def get_status_display(self) -> str:
        return Status(self.status).label


class Revogacao(models.Model):
    """The revocation record the CRL is built from: one row per revoked serial, on no
    account and on no certificate row, so deleting an account (or a certificate row)
    never takes a serial out of the CRL. Written only by `certificado_revoke`."""

    serial = models.CharField(_("número de série"), max_length=64, unique=True)
    common_name = models.CharField(_("CN"), max_length=64)
    revoked_at = models.DateTimeField(_("revogado em"))
    reason = models.CharField(
        _("motivo da revogação"), max_length=32, choices=RevocationReason.choices
    )
    not_after = models.DateTimeField(_("válido até"))
    conta_id_original = models.BigIntegerField(
        _("conta (id)"),
        null=True,
        blank=True,
        help_text=_(
            "Id da conta dona do certificado quando revogado (a conta pode não existir mais)."
        ),
    )

    class Meta:
        db_table = "tds_new_revogacao_certificado"
        ordering = ["revoked_at", "pk"]
        verbose_name = _("revogação")
        verbose_name_plural = _("revogações (CRL)")

    def __str__(self):
        return f"{self.common_name} #{self.serial[:16]}"

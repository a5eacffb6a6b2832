"""Per-account API tokens for the JSON API and CSV export (`Authorization: Bearer <token>`).

Only a SHA-256 hash of the token is stored; the token itself is shown once, when created.
The token carries 256 random bits, so a fast hash is enough (no password stretching).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contas.models import ContaOwnedModel


class Escopo(models.TextChoices):
    LEITURA = "leitura", _("Somente leitura")
    ESCRITA = "escrita", _("Leitura e escrita (regras e alarmes)")


class ApiToken(ContaOwnedModel):
    nome = models.CharField(_("nome"), max_length=80)
    escopo = models.CharField(
        _("escopo"),
        max_length=8,
        choices=Escopo.choices,
        default=Escopo.LEITURA,
        help_text=_("Escrita permite criar regras e reconhecer/encerrar alarmes pela API."),
    )
    prefixo = models.CharField(
        _("prefixo"), max_length=16, help_text=_("Início do token, para reconhecê-lo.")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    criado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criado por"),
    )
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revogado em"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expira em"), null=True, blank=True, help_text=_("Vazio: não expira.")
    )

    class Meta:
        db_table = "tds_new_api_token"
        ordering = ["-created_at"]
        verbose_name = _("token de API")
        verbose_name_plural = _("tokens de API")

    def __str__(self):
        return f"{self.nome} ({self.prefixo}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.escopo == Escopo.ESCRITA

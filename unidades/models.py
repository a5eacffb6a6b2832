"""Units of a condominium (Unidade), what each meter measures (Medicao) and which unit a
resident (morador) belongs to (MoradorUnidade).

The device ↔ unit link is a row of this app (one per Dispositivo) rather than a column of
the registry: the registry stays unaware of billing, and a device without a row is simply
"not classified" (left out of the split, and said so).
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contas.models import ContaMembership, ContaOwnedModel
from dispositivos.models import Dispositivo


class Unidade(ContaOwnedModel):
    bloco = models.CharField(_("bloco"), max_length=20, blank=True)
    numero = models.CharField(_("número"), max_length=20)
    fracao_ideal = models.DecimalField(
        _("fração ideal"),
        max_digits=10,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001")), MaxValueValidator(Decimal(1))],
        help_text=_("Parte do terreno e das áreas comuns, entre 0 e 1 (ex.: 0,0125)."),
    )
    responsavel = models.CharField(_("responsável"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail do responsável"), blank=True)

    class Meta:
        db_table = "tds_new_unidade"
        ordering = ["bloco", "numero", "id"]
        verbose_name = _("unidade")
        verbose_name_plural = _("unidades")
        constraints = [
            models.UniqueConstraint(
                fields=["conta", "bloco", "numero"], name="uniq_unidade_conta_bloco_numero"
            ),
            models.CheckConstraint(
                condition=Q(fracao_ideal__gt=0, fracao_ideal__lte=1),
                name="unidade_fracao_ideal_range",
            ),
        ]

    def __str__(self):
        return self.rotulo

    @property
    def rotulo(self) -> str:
        """How people name the unit: "Bloco A · 101", or "101" without a block."""
        if self.bloco:
            return _("Bloco %(bloco)s · %(numero)s") % {"bloco": self.bloco, "numero": self.numero}
        return self.numero


class Papel(models.TextChoices):
    UNIDADE = "UNIDADE", _("Unidade")
    AREA_COMUM = "AREA_COMUM", _("Área comum")
    PRINCIPAL = "PRINCIPAL", _("Medidor principal")


class Medicao(ContaOwnedModel):
    """What one device measures: a unit, the common area, or the whole building (the main
    meter of its utility: at most one per utility and account, checked by the service)."""

    dispositivo = models.OneToOneField(
        Dispositivo, on_delete=models.CASCADE, related_name="medicao", verbose_name=_("dispositivo")
    )
    papel = models.CharField(_("mede"), max_length=12, choices=Papel.choices)
    unidade = models.ForeignKey(
        Unidade,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="medicoes",
        verbose_name=_("unidade"),
    )

    class Meta:
        db_table = "tds_new_medicao"
        verbose_name = _("medição")
        verbose_name_plural = _("medições")
        constraints = [
            models.CheckConstraint(
                condition=(Q(papel="UNIDADE") & Q(unidade__isnull=False))
                | (~Q(papel="UNIDADE") & Q(unidade__isnull=True)),
                name="medicao_unidade_iff_papel_unidade",
            ),
        ]
        indexes = [models.Index(fields=["conta", "unidade"], name="medicao_conta_unidade_idx")]

    def __str__(self):
        return f"{self.dispositivo_id}: {self.get_papel_display()}"


class MoradorUnidade(ContaOwnedModel):
    """The unit of a member with the morador role: they see that unit only."""

    membership = models.OneToOneField(
        ContaMembership, on_delete=models.CASCADE, related_name="morador_unidade"
    )
    unidade = models.ForeignKey(
        Unidade, on_delete=models.CASCADE, related_name="moradores", verbose_name=_("unidade")
    )

    class Meta:
        db_table = "tds_new_morador_unidade"
        verbose_name = _("morador")
        verbose_name_plural = _("moradores")

    def __str__(self):
        return f"{self.membership.user} → {self.unidade}"

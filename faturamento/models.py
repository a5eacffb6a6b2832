"""Billing periods, the utility bills entered for them and the charges computed at close.

A period is identified by its reference month and a version: version 1 is the period as
first closed; a correction opens version 2 (with its reason), and closing it marks the
earlier one as replaced. Rows of a closed period are never changed (services refuse).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contas.models import Conta, ContaOwnedModel
from dispositivos.models import TIPO_DEFAULTS
from unidades.models import Unidade

from . import rateio


class ConfigFaturamento(models.Model):
    """Per-account billing settings (one row, created on first use)."""

    conta = models.OneToOneField(Conta, on_delete=models.CASCADE, related_name="config_faturamento")
    dia_fechamento = models.PositiveSmallIntegerField(
        _("dia de fechamento"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("O período vai deste dia até a véspera dele no mês seguinte (hora local)."),
    )
    perda_limite_pct = models.DecimalField(
        _("limite de perda na rede comum (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(15),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_(
            "Um dia em que a parte comum passa desta parte do medidor principal é destacado."
        ),
    )

    class Meta:
        db_table = "tds_new_config_faturamento"
        verbose_name = _("configuração de faturamento")
        verbose_name_plural = _("configurações de faturamento")

    def __str__(self):
        return str(self.conta)


class StatusPeriodo(models.TextChoices):
    ABERTO = "ABERTO", _("Aberto")
    FECHADO = "FECHADO", _("Fechado")
    SUBSTITUIDO = "SUBSTITUIDO", _("Substituído")


class Periodo(ContaOwnedModel):
    referencia = models.DateField(
        _("referência"), help_text=_("Primeiro dia do mês de referência.")
    )
    versao = models.PositiveSmallIntegerField(_("versão"), default=1)
    inicio = models.DateField(_("início"))
    fim = models.DateField(_("fim (exclusivo)"))
    status = models.CharField(
        _("situação"), max_length=12, choices=StatusPeriodo.choices, default=StatusPeriodo.ABERTO
    )
    motivo = models.TextField(_("motivo da correção"), blank=True)
    fechado_em = models.DateTimeField(_("fechado em"), null=True, blank=True)
    fechado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "tds_new_periodo"
        ordering = ["-referencia", "-versao"]
        verbose_name = _("período de faturamento")
        verbose_name_plural = _("períodos de faturamento")
        constraints = [
            models.UniqueConstraint(
                fields=["conta", "referencia", "versao"], name="uniq_periodo_conta_ref_versao"
            ),
            models.UniqueConstraint(
                fields=["conta", "referencia"],
                condition=Q(status=StatusPeriodo.ABERTO),
                name="uniq_periodo_aberto_por_ref",
            ),
            models.UniqueConstraint(
                fields=["conta", "referencia"],
                condition=Q(status=StatusPeriodo.FECHADO),
                name="uniq_periodo_fechado_por_ref",
            ),
            models.CheckConstraint(
                condition=Q(fim__gt=models.F("inicio")), name="periodo_fim_depois"
            ),
        ]

    def __str__(self):
        return f"{self.referencia:%m/%Y} v{self.versao}"

    @property
    def is_aberto(self) -> bool:
        return self.status == StatusPeriodo.ABERTO

    @property
    def ultimo_dia(self):
        from datetime import timedelta

        return self.fim - timedelta(days=1)


class Utilidade(models.TextChoices):
    AGUA = "AGUA", _("Água")
    GAS = "GAS", _("Gás")
    ENERGIA = "ENERGIA", _("Energia")


class ModoTarifa(models.TextChoices):
    FAIXAS = rateio.FAIXAS, _("Faixas de consumo (com valor mínimo)")
    PRECO_FIXO = rateio.PRECO_FIXO, _("Preço fixo por unidade de consumo")


class MetodoComum(models.TextChoices):
    FRACAO_IDEAL = rateio.FRACAO_IDEAL, _("Por fração ideal")
    IGUAL = rateio.IGUAL, _("Em partes iguais")
    PROPORCIONAL = rateio.PROPORCIONAL, _("Proporcional ao consumo individual")


class Fatura(ContaOwnedModel):
    """The utility's bill for one utility and period, and (after close) the split's totals."""

    periodo = models.ForeignKey(Periodo, on_delete=models.CASCADE, related_name="faturas")
    tipo = models.CharField(_("utilidade"), max_length=10, choices=Utilidade.choices)
    valor_total = models.DecimalField(
        _("valor total da conta (R$)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )
    consumo_concessionaria = models.DecimalField(
        _("consumo faturado pela concessionária"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Usado como consumo total quando não há medidor principal com dados."),
    )
    modo = models.CharField(_("tarifa"), max_length=12, choices=ModoTarifa.choices)
    faixas = models.JSONField(
        _("faixas"), default=list, blank=True
    )  # [[ate|None, preco], ...] as strings
    preco_unitario = models.DecimalField(
        _("preço por unidade de consumo (R$)"),
        max_digits=12,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    valor_minimo = models.DecimalField(
        _("valor mínimo por unidade (R$)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    esgoto_pct = models.DecimalField(
        _("esgoto (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(200))],
    )
    metodo_comum = models.CharField(
        _("divisão da parte comum"),
        max_length=14,
        choices=MetodoComum.choices,
        default=MetodoComum.FRACAO_IDEAL,
    )
    usar_estimativas = models.BooleanField(
        _("usar estimativas para unidades sem dados"), default=True
    )
    # Filled when the period is closed:
    consumo_principal = models.DecimalField(max_digits=15, decimal_places=4, null=True, blank=True)
    soma_unidades = models.DecimalField(max_digits=15, decimal_places=4, null=True, blank=True)
    consumo_comum = models.DecimalField(max_digits=15, decimal_places=4, null=True, blank=True)
    valor_comum = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    alertas = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "tds_new_fatura"
        ordering = ["periodo", "tipo"]
        verbose_name = _("conta da concessionária")
        verbose_name_plural = _("contas da concessionária")
        constraints = [
            models.UniqueConstraint(fields=["periodo", "tipo"], name="uniq_fatura_periodo_tipo"),
        ]

    def __str__(self):
        return f"{self.periodo} {self.get_tipo_display()}"

    @property
    def unidade_medida(self) -> str:
        return TIPO_DEFAULTS.get(self.tipo, ("",))[0]

    def tarifa(self, unidade: str) -> rateio.Tarifa:
        return rateio.Tarifa(
            modo=self.modo,
            faixas=tuple(
                rateio.Faixa(None if ate in (None, "") else Decimal(ate), Decimal(preco))
                for ate, preco in self.faixas
            ),
            preco_unitario=self.preco_unitario or Decimal(0),
            valor_minimo=self.valor_minimo or Decimal(0),
            esgoto_pct=self.esgoto_pct or Decimal(0),
            unidade=unidade,
        )


class Situacao(models.TextChoices):
    MEDIDO = "MEDIDO", _("Medido")
    INCOMPLETO = "INCOMPLETO", _("Dados incompletos")
    SEM_DADOS = "SEM_DADOS", _("Sem dados")
    SEM_MEDIDOR = "SEM_MEDIDOR", _("Sem medidor")


class Cobranca(ContaOwnedModel):
    """One unit's charge for one utility in a closed period, with its computation."""

    periodo = models.ForeignKey(Periodo, on_delete=models.CASCADE, related_name="cobrancas")
    fatura = models.ForeignKey(Fatura, on_delete=models.CASCADE, related_name="cobrancas")
    unidade = models.ForeignKey(Unidade, on_delete=models.PROTECT, related_name="cobrancas")
    tipo = models.CharField(_("utilidade"), max_length=10, choices=Utilidade.choices)
    consumo_medido = models.DecimalField(max_digits=15, decimal_places=4, null=True, blank=True)
    consumo = models.DecimalField(
        _("consumo considerado"), max_digits=15, decimal_places=4, null=True, blank=True
    )
    estimado = models.BooleanField(_("estimado"), default=False)
    situacao = models.CharField(_("dados"), max_length=12, choices=Situacao.choices)
    valor_individual = models.DecimalField(max_digits=16, decimal_places=6)
    valor_comum = models.DecimalField(max_digits=16, decimal_places=6)
    valor = models.DecimalField(_("valor (R$)"), max_digits=12, decimal_places=2)
    linhas = models.JSONField(_("memória de cálculo"), default=list)

    class Meta:
        db_table = "tds_new_cobranca"
        ordering = ["periodo", "unidade", "tipo"]
        verbose_name = _("cobrança")
        verbose_name_plural = _("cobranças")
        constraints = [
            models.UniqueConstraint(
                fields=["fatura", "unidade"], name="uniq_cobranca_fatura_unidade"
            ),
        ]
        indexes = [
            models.Index(fields=["conta", "unidade", "periodo"], name="cobranca_conta_unidade_idx")
        ]

    def __str__(self):
        return f"{self.unidade} {self.get_tipo_display()} {self.valor}"


class StatusGeracao(models.TextChoices):
    NA_FILA = "NA_FILA", _("Na fila")
    GERANDO = "GERANDO", _("Gerando")
    PRONTO = "PRONTO", _("Pronto")
    ERRO = "ERRO", _("Erro")


class GeracaoDemonstrativos(ContaOwnedModel):
    """A background job generating every unit's statement of a closed period into one zip."""

    periodo = models.ForeignKey(Periodo, on_delete=models.CASCADE, related_name="geracoes")
    status = models.CharField(
        max_length=10, choices=StatusGeracao.choices, default=StatusGeracao.NA_FILA
    )
    total = models.PositiveIntegerField(default=0)
    feitos = models.PositiveIntegerField(default=0)
    arquivo = models.CharField(max_length=300, blank=True)  # path under TDS_DEMONSTRATIVOS_DIR
    erro = models.TextField(blank=True)
    solicitado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    concluido_em = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "tds_new_geracao_demonstrativos"
        ordering = ["-created_at"]
        verbose_name = _("geração de demonstrativos")
        verbose_name_plural = _("gerações de demonstrativos")

    def __str__(self):
        return f"{self.periodo}: {self.feitos}/{self.total} {self.status}"

    @property
    def percentual(self) -> int:
        return (
            100
            if self.status == StatusGeracao.PRONTO
            else (100 * self.feitos // self.total if self.total else 0)
        )

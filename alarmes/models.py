"""Alarm rules (RegraAlarme), alarms (Alarme), their transitions, and the evaluation
state that must survive a restart (EstadoRegra).

One open alarm per (rule, device) — or per (rule, gateway) for a gateway alarm — is
enforced by partial unique indexes, so two consumers, a redelivered batch and a
concurrent job can never make twins: the second insert conflicts and does nothing.
"""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from contas.models import ContaOwnedModel
from dispositivos.models import TipoDispositivo


class TipoRegra(models.TextChoices):
    LIMITE = "limite", _("Limite")
    CONSUMO = "consumo", _("Consumo no período")
    VAZAMENTO = "vazamento", _("Vazamento")
    SEM_DADOS = "sem_dados", _("Sem dados")
    ANOMALIA = "anomalia", _("Anomalia")
    GATEWAY_OFFLINE = "gateway_offline", _("Gateway offline")
    PERDA_REDE = "perda_rede", _("Perda na rede comum")


class Severidade(models.TextChoices):
    CRITICO = "critico", _("Crítico")
    ALTO = "alto", _("Alto")
    MEDIO = "medio", _("Médio")
    BAIXO = "baixo", _("Baixo")
    INFORMATIVO = "informativo", _("Informativo")


SEVERIDADE_ORDEM = {s: i for i, s in enumerate(Severidade.values)}  # 0 = most severe


class Grandeza(models.TextChoices):
    VALOR = "valor", _("Valor da leitura")
    TAXA = "taxa", _("Taxa por hora (medidor acumulado)")


class Periodo(models.TextChoices):
    HORA = "hora", _("Hora")
    DIA = "dia", _("Dia (local)")


class ModoAnomalia(models.TextChoices):
    CONTADOR = "contador", _("Contador voltando (adulteração ou troca de medidor)")
    MEDIANA = "mediana", _("Consumo do dia acima de k × a mediana de 28 dias")


class RegraAlarme(ContaOwnedModel):
    """A condition watched on one device, the devices of one gateway, or every device
    of a type in the account (a template), minus the excluded devices."""

    nome = models.CharField(_("nome"), max_length=120)
    tipo = models.CharField(_("tipo"), max_length=16, choices=TipoRegra.choices)
    severidade = models.CharField(
        _("severidade"), max_length=12, choices=Severidade.choices, default=Severidade.MEDIO
    )
    ativo = models.BooleanField(_("ativa"), default=True)
    descricao = models.TextField(_("descrição"), blank=True)

    # Target: exactly one of the three.
    dispositivo = models.ForeignKey(
        "dispositivos.Dispositivo",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispositivo"),
    )
    gateway = models.ForeignKey(
        "dispositivos.Gateway",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gateway"),
    )
    tipo_dispositivo = models.CharField(
        _("tipo de dispositivo"), max_length=10, choices=TipoDispositivo.choices, blank=True
    )
    exclusoes = models.ManyToManyField(
        "dispositivos.Dispositivo",
        blank=True,
        related_name="+",
        verbose_name=_("dispositivos excluídos"),
        db_table="tds_new_regra_alarme_exclusao",
    )

    # limite (and consumo: limite_superior is the consumption limit)
    grandeza = models.CharField(
        _("grandeza"), max_length=8, choices=Grandeza.choices, default=Grandeza.VALOR
    )
    limite_superior = models.DecimalField(
        _("limite superior"), max_digits=15, decimal_places=4, null=True, blank=True
    )
    limite_inferior = models.DecimalField(
        _("limite inferior"), max_digits=15, decimal_places=4, null=True, blank=True
    )
    histerese = models.DecimalField(
        _("histerese"),
        max_digits=15,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Encerra só quando o valor volta além do limite menos (ou mais) a banda."),
    )
    duracao_minutos = models.PositiveIntegerField(
        _("duração (min)"),
        default=0,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("A condição deve durar este tempo antes de disparar."),
    )
    # consumo
    periodo = models.CharField(
        _("período"), max_length=4, choices=Periodo.choices, default=Periodo.HORA
    )
    # vazamento
    vazao_minima = models.DecimalField(
        _("vazão mínima por hora"),
        max_digits=15,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Consumo em toda hora da janela acima deste valor indica vazamento."),
    )
    janela_inicio = models.TimeField(_("início da janela"), default=time(0))
    janela_fim = models.TimeField(_("fim da janela"), default=time(5))
    noites_para_encerrar = models.PositiveSmallIntegerField(
        _("noites sem fluxo para encerrar"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    # sem_dados
    intervalos = models.PositiveSmallIntegerField(
        _("intervalos sem leitura"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Dispara após N × o intervalo de envio do gateway sem leitura."),
    )
    # anomalia
    modo_anomalia = models.CharField(
        _("modo"), max_length=8, choices=ModoAnomalia.choices, default=ModoAnomalia.CONTADOR
    )
    fator_mediana = models.DecimalField(
        _("fator k sobre a mediana"),
        max_digits=8,
        decimal_places=2,
        default=Decimal(3),
        validators=[MinValueValidator(Decimal(1))],
    )
    tolerancia_reset = models.DecimalField(
        _("tolerância de reset"),
        max_digits=15,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_(
            "Um contador que volta a um valor até este é um reset normal (zerou); "
            "voltar para acima dele é anomalia."
        ),
    )

    criado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criada por"),
    )

    class Meta:
        db_table = "tds_new_regra_alarme"
        ordering = ["nome", "id"]
        verbose_name = _("regra de alarme")
        verbose_name_plural = _("regras de alarme")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(dispositivo__isnull=False, gateway__isnull=True, tipo_dispositivo="")
                    | models.Q(dispositivo__isnull=True, gateway__isnull=False, tipo_dispositivo="")
                    | (
                        models.Q(dispositivo__isnull=True, gateway__isnull=True)
                        & ~models.Q(tipo_dispositivo="")
                    )
                ),
                name="regra_alvo_exatamente_um",
            ),
        ]
        indexes = [models.Index(fields=["conta", "ativo", "tipo"], name="regra_conta_ativo_idx")]

    def __str__(self):
        return self.nome


class EstadoAlarme(models.TextChoices):
    ATIVO = "ativo", _("Ativo")
    RECONHECIDO = "reconhecido", _("Reconhecido")
    ENCERRADO = "encerrado", _("Encerrado")


OPEN_STATES = (EstadoAlarme.ATIVO, EstadoAlarme.RECONHECIDO)


class Alarme(ContaOwnedModel):
    """One occurrence of a rule's condition on one device (or gateway)."""

    regra = models.ForeignKey(
        RegraAlarme,
        on_delete=models.SET_NULL,
        null=True,
        related_name="alarmes",
        verbose_name=_("regra"),
    )
    regra_nome = models.CharField(_("nome da regra"), max_length=120)
    tipo = models.CharField(_("tipo"), max_length=16, choices=TipoRegra.choices)
    severidade = models.CharField(_("severidade"), max_length=12, choices=Severidade.choices)
    gateway = models.ForeignKey(
        "dispositivos.Gateway",
        on_delete=models.CASCADE,
        related_name="alarmes",
        verbose_name=_("gateway"),
    )
    dispositivo = models.ForeignKey(
        "dispositivos.Dispositivo",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alarmes",
        verbose_name=_("dispositivo"),
    )
    estado = models.CharField(
        _("estado"), max_length=12, choices=EstadoAlarme.choices, default=EstadoAlarme.ATIVO
    )
    inicio = models.DateTimeField(_("início"))
    fim = models.DateTimeField(_("fim"), null=True, blank=True)
    valor = models.DecimalField(_("valor"), max_digits=15, decimal_places=4, null=True)
    mensagem = models.CharField(_("mensagem"), max_length=300, blank=True)
    reconhecido_em = models.DateTimeField(_("reconhecido em"), null=True, blank=True)
    reconhecido_por = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reconhecido por"),
    )

    class Meta:
        db_table = "tds_new_alarme"
        ordering = ["-inicio", "-id"]
        verbose_name = _("alarme")
        verbose_name_plural = _("alarmes")
        constraints = [
            models.UniqueConstraint(
                fields=["regra", "dispositivo"],
                condition=models.Q(estado__in=OPEN_STATES, dispositivo__isnull=False),
                name="alarme_um_aberto_por_regra_dispositivo",
            ),
            models.UniqueConstraint(
                fields=["regra", "gateway"],
                condition=models.Q(estado__in=OPEN_STATES, dispositivo__isnull=True),
                name="alarme_um_aberto_por_regra_gateway",
            ),
        ]
        indexes = [
            models.Index(fields=["conta", "estado", "-inicio"], name="alarme_conta_estado_idx"),
            models.Index(fields=["dispositivo", "-inicio"], name="alarme_disp_inicio_idx"),
        ]

    def __str__(self):
        alvo = self.dispositivo or self.gateway
        return f"{self.regra_nome} — {alvo} ({self.get_estado_display()})"

    @property
    def is_open(self) -> bool:
        return self.estado in OPEN_STATES


class TipoTransicao(models.TextChoices):
    DISPARO = "disparo", _("Disparado")
    RECONHECIMENTO = "reconhecimento", _("Reconhecido")
    ENCERRAMENTO = "encerramento", _("Encerrado")
    COMENTARIO = "comentario", _("Comentário")


class TransicaoAlarme(ContaOwnedModel):
    """Who did what to an alarm, and when. `usuario` is null for the engine."""

    alarme = models.ForeignKey(
        Alarme, on_delete=models.CASCADE, related_name="transicoes", verbose_name=_("alarme")
    )
    tipo = models.CharField(_("tipo"), max_length=16, choices=TipoTransicao.choices)
    estado_anterior = models.CharField(
        _("estado anterior"), max_length=12, choices=EstadoAlarme.choices, blank=True
    )
    estado_novo = models.CharField(_("estado novo"), max_length=12, choices=EstadoAlarme.choices)
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("usuário"),
    )
    em = models.DateTimeField(_("em"))
    comentario = models.TextField(_("comentário"), blank=True, max_length=2000)
    valor = models.DecimalField(_("valor"), max_digits=15, decimal_places=4, null=True)

    class Meta:
        db_table = "tds_new_alarme_transicao"
        ordering = ["em", "id"]
        verbose_name = _("transição de alarme")
        verbose_name_plural = _("transições de alarme")
        indexes = [models.Index(fields=["alarme", "em"], name="transicao_alarme_em_idx")]

    def __str__(self):
        return f"{self.alarme_id}: {self.get_tipo_display()} @ {self.em:%Y-%m-%d %H:%M}"


class EstadoRegra(models.Model):
    """Evaluation state of a (rule, device) that must survive restarts: since when a
    condition holds (duration), how many nights passed without flow (leak clear)."""

    regra = models.ForeignKey(RegraAlarme, on_delete=models.CASCADE, related_name="+")
    dispositivo = models.ForeignKey(
        "dispositivos.Dispositivo", on_delete=models.CASCADE, related_name="+"
    )
    conta = models.ForeignKey("contas.Conta", on_delete=models.CASCADE, related_name="+")
    pendente_desde = models.DateTimeField(null=True)
    ultimo_em = models.DateTimeField(null=True)
    noites_ok = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "tds_new_regra_alarme_estado"
        constraints = [
            models.UniqueConstraint(fields=["regra", "dispositivo"], name="uniq_estado_regra_disp")
        ]

    def __str__(self):
        return f"{self.regra_id}/{self.dispositivo_id}"

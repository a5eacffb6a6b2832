"""Dead letters: every message the consumer could not store, with why; the latest
diagnostics of each gateway's agent."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from contas.models import ContaOwnedModel


class Motivo(models.TextChoices):
    """Reason codes of a rejected message (stable: metrics and tests use the values)."""

    NOT_UTF8 = "not_utf8", _("Não é UTF-8")
    NOT_JSON = "not_json", _("Não é JSON")
    SCHEMA = "schema", _("Campo ausente ou de tipo errado")
    TOO_LARGE = "too_large", _("Mensagem grande demais")
    TOO_MANY_READINGS = "too_many_readings", _("Leituras demais")
    BAD_TIMESTAMP = "bad_timestamp", _("Timestamp inválido")
    FUTURE_TIMESTAMP = "future_timestamp", _("Timestamp no futuro")
    BAD_VALUE = "bad_value", _("Valor inválido (NaN, infinito ou fora da faixa)")
    MAC_MISMATCH = "mac_mismatch", _("MAC do payload difere do tópico")
    UNKNOWN_GATEWAY = "unknown_gateway", _("Gateway desconhecido")
    INACTIVE_GATEWAY = "inactive_gateway", _("Gateway inativo")
    UNKNOWN_DEVICE = "unknown_device", _("Dispositivo desconhecido (demais leituras guardadas)")
    BAD_STATUS = "bad_status", _("Status inválido")
    INTERNAL_ERROR = "internal_error", _("Erro interno ao processar")


class MensagemRejeitada(models.Model):
    """A message that was not (fully) stored. `conta`/`gateway` are set when the topic's
    MAC belongs to a registered gateway; rejects of unknown gateways belong to no account
    and are visible in the admin only."""

    recebida_em = models.DateTimeField(_("recebida em"), db_index=True)
    topico = models.TextField(_("tópico"))
    payload = models.BinaryField(_("payload"))  # the first TDS_DEAD_LETTER_PAYLOAD_BYTES
    tamanho_payload = models.PositiveIntegerField(_("tamanho original (bytes)"), default=0)
    motivo = models.CharField(_("motivo"), max_length=24, choices=Motivo.choices)
    detalhe = models.TextField(_("detalhe"), blank=True)
    gateway = models.ForeignKey(
        "dispositivos.Gateway",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gateway"),
    )
    conta = models.ForeignKey(
        "contas.Conta",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("conta"),
    )

    objects = ScopedManager(conta="conta")

    class Meta:
        db_table = "tds_new_mensagem_rejeitada"
        ordering = ["-recebida_em", "-pk"]
        verbose_name = _("mensagem rejeitada")
        verbose_name_plural = _("mensagens rejeitadas")
        indexes = [
            models.Index(fields=["conta", "-recebida_em"], name="rejeitada_conta_recebida_idx"),
            models.Index(fields=["conta", "motivo"], name="rejeitada_conta_motivo_idx"),
        ]

    def __str__(self):
        return f"{self.get_motivo_display()} @ {self.topico}"

    def payload_text(self, limit: int = 2000) -> str:
        """The payload as text for display (invalid UTF-8 shown as escapes)."""
        data = bytes(self.payload or b"")
        text = data[:limit].decode("utf-8", errors="backslashreplace")
        return text + ("…" if max(len(data), self.tamanho_payload) > min(len(data), limit) else "")


class ContagemRejeicoes(models.Model):
    """Rejects per source (a gateway, or the topic's MAC when no gateway has it) and hour.
    Every reject is counted here; only the first TDS_DEAD_LETTER_MAX_PER_HOUR of a source
    in an hour are also stored as MensagemRejeitada rows, so a gateway repeating a bad
    message cannot grow the table without bound."""

    fonte = models.CharField(_("origem"), max_length=64)
    hora = models.DateTimeField(_("hora"))
    quantidade = models.PositiveIntegerField(_("rejeições"), default=0)
    gateway = models.ForeignKey(
        "dispositivos.Gateway",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gateway"),
    )
    conta = models.ForeignKey(
        "contas.Conta",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("conta"),
    )

    objects = ScopedManager(conta="conta")

    class Meta:
        db_table = "tds_new_contagem_rejeicoes"
        ordering = ["-hora", "fonte"]
        verbose_name = _("contagem de rejeições")
        verbose_name_plural = _("contagens de rejeições")
        constraints = [
            models.UniqueConstraint(fields=["fonte", "hora"], name="contagem_fonte_hora_uniq")
        ]
        indexes = [models.Index(fields=["conta", "-hora"], name="contagem_conta_hora_idx")]

    def __str__(self):
        return f"{self.fonte} @ {self.hora:%Y-%m-%d %H}h: {self.quantidade}"


class DiagnosticoGateway(ContaOwnedModel):
    """The latest diagnostics message of a gateway's agent (one row per gateway, replaced
    by each message: the agent sends one per interval)."""

    gateway = models.OneToOneField(
        "dispositivos.Gateway",
        on_delete=models.CASCADE,
        related_name="diagnostico",
        verbose_name=_("gateway"),
    )
    recebido_em = models.DateTimeField(_("recebido em"))
    enviado_em = models.DateTimeField(_("enviado em (relógio do gateway)"))
    config_versao = models.PositiveIntegerField(_("versão da configuração em uso"), null=True)
    outbox_pendentes = models.PositiveIntegerField(_("mensagens na fila local"), default=0)
    outbox_descartadas = models.PositiveIntegerField(_("mensagens descartadas"), default=0)
    ntp_sincronizado = models.BooleanField(_("relógio sincronizado (NTP)"), null=True)
    payload = models.JSONField(_("diagnóstico"), default=dict)

    class Meta:
        db_table = "tds_new_diagnostico_gateway"
        verbose_name = _("diagnóstico de gateway")
        verbose_name_plural = _("diagnósticos de gateways")

    @property
    def desvio_relogio_segundos(self) -> float:
        """Gateway clock minus platform clock (includes the transit time, ~ms)."""
        return (self.enviado_em - self.recebido_em).total_seconds()

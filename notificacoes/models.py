"""Notification targets, member preferences, and the outbox.

The outbox has two levels: a `Notificacao` is written in the same transaction as the
alarm transition it reports (one per transition and target endpoint); the delivery job
groups the due ones of an endpoint into one `Envio` (the message actually sent, with its
idempotency key), and every attempt to send it is a `TentativaEnvio`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alarmes.models import SEVERIDADE_ORDEM, Severidade
from contas.models import ContaOwnedModel

__all__ = ["SEVERIDADE_ORDEM", "Severidade"]  # re-exported for this app's modules


class Canal(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    TELEGRAM = "telegram", _("Telegram")


class TipoDestino(models.TextChoices):
    MEMBRO = "membro", _("Membro da conta")
    EMAIL = "email", _("Endereço de e-mail")
    WEBHOOK = "webhook", _("Webhook")
    TELEGRAM = "telegram", _("Chat do Telegram")


class DestinoNotificacao(ContaOwnedModel):
    """Who hears of an account's alarms, through which channel, filtered how."""

    nome = models.CharField(_("nome"), max_length=120)
    tipo = models.CharField(_("tipo"), max_length=10, choices=TipoDestino.choices)
    membro = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("membro"),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    webhook_url = models.URLField(_("URL do webhook"), max_length=500, blank=True)
    # Shared with the receiver to verify the HMAC-SHA256 signature (shown on the target's page).
    webhook_segredo = models.CharField(_("segredo"), max_length=64, blank=True)
    telegram_chat_id = models.CharField(_("chat id do Telegram"), max_length=64, blank=True)
    telegram_bot_token = models.CharField(
        _("token do bot"),
        max_length=128,
        blank=True,
        help_text=_("Vazio: o bot da plataforma."),
    )
    severidade_minima = models.CharField(
        _("severidade mínima"),
        max_length=12,
        choices=Severidade.choices,
        default=Severidade.INFORMATIVO,
    )
    regras = models.ManyToManyField(
        "alarmes.RegraAlarme",
        blank=True,
        related_name="+",
        verbose_name=_("somente estas regras"),
        db_table="tds_new_notif_destino_regra",
    )
    gateways = models.ManyToManyField(
        "dispositivos.Gateway",
        blank=True,
        related_name="+",
        verbose_name=_("somente estes gateways"),
        db_table="tds_new_notif_destino_gateway",
    )
    ativo = models.BooleanField(_("ativo"), default=True)
    # Channel health: consecutive failed attempts; failing past settings.TDS_NOTIFY_FAILING_AFTER.
    falhas_consecutivas = models.PositiveIntegerField(default=0, editable=False)
    falhando_desde = models.DateTimeField(_("falhando desde"), null=True, blank=True)
    ultimo_erro = models.TextField(_("último erro"), blank=True)
    ultimo_sucesso_em = models.DateTimeField(_("último envio com sucesso"), null=True, blank=True)

    class Meta:
        db_table = "tds_new_notif_destino"
        ordering = ["nome", "id"]
        verbose_name = _("destino de notificação")
        verbose_name_plural = _("destinos de notificação")
        indexes = [models.Index(fields=["conta", "ativo"], name="notif_destino_conta_ativo")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(tipo="membro") | models.Q(membro__isnull=False),
                name="notif_destino_membro_set",
            ),
        ]

    def __str__(self):
        return self.nome

    @property
    def falhando(self) -> bool:
        return self.falhando_desde is not None


class PreferenciaMembro(ContaOwnedModel):
    """A member's own choices in one account: channels, quiet hours, daily digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    receber_email = models.BooleanField(_("receber por e-mail"), default=True)
    receber_telegram = models.BooleanField(_("receber pelo Telegram"), default=False)
    telegram_chat_id = models.CharField(_("meu chat id do Telegram"), max_length=64, blank=True)
    silencio_inicio = models.TimeField(_("silêncio a partir de"), null=True, blank=True)
    silencio_fim = models.TimeField(_("silêncio até"), null=True, blank=True)
    resumo_diario = models.BooleanField(_("resumo diário por e-mail"), default=False)

    class Meta:
        db_table = "tds_new_notif_preferencia"
        verbose_name = _("preferência de notificação")
        verbose_name_plural = _("preferências de notificação")
        constraints = [
            models.UniqueConstraint(fields=["conta", "user"], name="uniq_notif_pref_conta_user")
        ]

    def __str__(self):
        return f"{self.user} @ {self.conta_id}"


class ConfiguracaoNotificacao(ContaOwnedModel):
    """Account-wide reminder and escalation timing (one row per account, made on demand)."""

    lembrete_minutos = models.PositiveIntegerField(
        _("lembrete a cada (minutos)"),
        default=60,
        help_text=_("Enquanto o alarme estiver ativo e não reconhecido. 0 desliga."),
    )
    escalonamento_minutos = models.PositiveIntegerField(
        _("escalonar aos administradores após (minutos)"),
        default=30,
        help_text=_("Alarme ativo e não reconhecido por este tempo. 0 desliga."),
    )

    class Meta:
        db_table = "tds_new_notif_configuracao"
        verbose_name = _("configuração de notificações")
        verbose_name_plural = _("configurações de notificações")
        constraints = [models.UniqueConstraint(fields=["conta"], name="uniq_notif_config_conta")]


class Evento(models.TextChoices):
    DISPARADO = "disparado", _("disparado")
    RECONHECIDO = "reconhecido", _("reconhecido")
    ENCERRADO = "encerrado", _("encerrado")
    LEMBRETE = "lembrete", _("lembrete")
    ESCALONAMENTO = "escalonamento", _("escalonamento")


class EstadoNotificacao(models.TextChoices):
    PENDENTE = "pendente", _("aguardando agrupamento")
    AGRUPADA = "agrupada", _("em envio")
    SILENCIADA = "silenciada", _("silenciada (horário de silêncio)")
    CANCELADA = "cancelada", _("cancelada (alarme já reconhecido ou encerrado)")


class Notificacao(ContaOwnedModel):
    """Outbox row: one alarm event for one endpoint (target × channel × address)."""

    alarme = models.ForeignKey(
        "alarmes.Alarme",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notificacoes",
        verbose_name=_("alarme"),
    )
    evento = models.CharField(_("evento"), max_length=16, choices=Evento.choices)
    severidade = models.CharField(_("severidade"), max_length=12, choices=Severidade.choices)
    destino = models.ForeignKey(
        DestinoNotificacao,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notificacoes",
        verbose_name=_("destino"),
    )
    canal = models.CharField(_("canal"), max_length=10, choices=Canal.choices)
    endereco = models.CharField(_("para"), max_length=500)
    # Alarm snapshot at the transition (rendering never re-reads the alarm).
    dados = models.JSONField(default=dict)
    # Makes the writer idempotent: a transition, reminder or escalation is written once.
    chave = models.CharField(max_length=200, unique=True)
    # Endpoint key: due rows with the same key go out as one message.
    chave_grupo = models.CharField(max_length=200)
    estado = models.CharField(
        _("estado"),
        max_length=12,
        choices=EstadoNotificacao.choices,
        default=EstadoNotificacao.PENDENTE,
    )
    disponivel_em = models.DateTimeField()
    envio = models.ForeignKey(
        "Envio", on_delete=models.SET_NULL, null=True, blank=True, related_name="notificacoes"
    )

    class Meta:
        db_table = "tds_new_notif_notificacao"
        ordering = ["-created_at", "-id"]
        verbose_name = _("notificação")
        verbose_name_plural = _("notificações")
        indexes = [
            models.Index(
                fields=["disponivel_em"],
                condition=models.Q(estado=EstadoNotificacao.PENDENTE),
                name="notif_pendente_due",
            ),
            models.Index(
                fields=["chave_grupo"],
                condition=models.Q(estado=EstadoNotificacao.PENDENTE),
                name="notif_pendente_grupo",
            ),
        ]


class EstadoEnvio(models.TextChoices):
    PENDENTE = "pendente", _("pendente")
    ENVIADA = "enviada", _("enviada")
    FALHOU = "falhou", _("falhou")


class Envio(ContaOwnedModel):
    """One message to one endpoint; sent at least once, marked sent only after the channel
    accepted it. The idempotency key is fixed at composition, so a resend after a crash is
    the same message (same body, same key) and the receiver drops it."""

    destino = models.ForeignKey(
        DestinoNotificacao,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="envios",
        verbose_name=_("destino"),
    )
    canal = models.CharField(_("canal"), max_length=10, choices=Canal.choices)
    endereco = models.CharField(_("para"), max_length=500)
    chave_idempotencia = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Idempotent writers of direct messages (daily digest): one per reference.
    referencia = models.CharField(max_length=200, null=True, blank=True, unique=True)
    assunto = models.CharField(_("assunto"), max_length=300)
    corpo = models.TextField(_("texto"))
    payload = models.JSONField(default=dict)
    estado = models.CharField(
        _("estado"), max_length=10, choices=EstadoEnvio.choices, default=EstadoEnvio.PENDENTE
    )
    tentativas = models.PositiveIntegerField(_("tentativas"), default=0)
    proxima_tentativa_em = models.DateTimeField()
    # A delivery claim: a worker that dies leaves it to expire, then the message is retried.
    reivindicado_ate = models.DateTimeField(null=True, blank=True)
    enviado_em = models.DateTimeField(_("enviada em"), null=True, blank=True)
    ultimo_erro = models.TextField(_("último erro"), blank=True)

    class Meta:
        db_table = "tds_new_notif_envio"
        ordering = ["-created_at", "-id"]
        verbose_name = _("envio")
        verbose_name_plural = _("envios")
        indexes = [
            models.Index(
                fields=["proxima_tentativa_em"],
                condition=models.Q(estado=EstadoEnvio.PENDENTE),
                name="notif_envio_pendente_due",
            ),
            models.Index(fields=["conta", "destino", "-created_at"], name="notif_envio_destino"),
        ]

    def __str__(self):
        return f"{self.get_canal_display()} → {self.endereco}: {self.assunto}"


class ResultadoTentativa(models.TextChoices):
    EM_ANDAMENTO = "em_andamento", _("em andamento")
    SUCESSO = "sucesso", _("aceita")
    FALHA = "falha", _("falha")
    INTERROMPIDA = "interrompida", _("interrompida (entregador parou)")


class TentativaEnvio(ContaOwnedModel):
    envio = models.ForeignKey(Envio, on_delete=models.CASCADE, related_name="tentativas_log")
    numero = models.PositiveIntegerField(_("tentativa"))
    inicio = models.DateTimeField(_("início"))
    fim = models.DateTimeField(_("fim"), null=True, blank=True)
    resultado = models.CharField(
        _("resultado"),
        max_length=14,
        choices=ResultadoTentativa.choices,
        default=ResultadoTentativa.EM_ANDAMENTO,
    )
    status = models.CharField(_("resposta"), max_length=40, blank=True)
    erro = models.TextField(_("erro"), blank=True)

    class Meta:
        db_table = "tds_new_notif_tentativa"
        ordering = ["envio", "numero"]
        verbose_name = _("tentativa de envio")
        verbose_name_plural = _("tentativas de envio")

"""Writes of the notification settings: targets, member preferences, account settings,
and the "send a test" message. Outbox writing is in outbox.py, delivery in entrega.py."""

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contas.models import Conta

from . import mensagens
from .models import (
    ConfiguracaoNotificacao,
    DestinoNotificacao,
    Envio,
    PreferenciaMembro,
    Severidade,
    TipoDestino,
)
from .outbox import Endpoint, agendar_entrega, destino_endpoint, member_endpoints, membros

DESTINO_FIELDS = (
    "nome",
    "tipo",
    "membro",
    "email",
    "webhook_url",
    "telegram_chat_id",
    "telegram_bot_token",
    "severidade_minima",
    "ativo",
)
PREFERENCIA_FIELDS = (
    "receber_email",
    "receber_telegram",
    "telegram_chat_id",
    "silencio_inicio",
    "silencio_fim",
    "resumo_diario",
)
CONFIGURACAO_FIELDS = ("lembrete_minutos", "escalonamento_minutos")
_CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$")


def _validate_destino(destino: DestinoNotificacao, *, gateways, regras) -> None:
    destino.full_clean(exclude=["conta", "gateways", "regras"])
    errors = {}
    if destino.tipo == TipoDestino.MEMBRO:
        if (
            destino.membro_id is None
            or not membros(conta_id=destino.conta_id, user_id=destino.membro_id).exists()
        ):
            errors["membro"] = _("Escolha um membro desta conta.")
    elif destino.tipo == TipoDestino.EMAIL and not destino.email:
        errors["email"] = _("Informe o endereço de e-mail.")
    elif destino.tipo == TipoDestino.WEBHOOK:
        if not destino.webhook_url.startswith(("http://", "https://")):
            errors["webhook_url"] = _("Informe uma URL http:// ou https://.")
    elif destino.tipo == TipoDestino.TELEGRAM and not _CHAT_ID.match(destino.telegram_chat_id):
        errors["telegram_chat_id"] = _(
            "Informe o chat id do Telegram (um número, ex.: -1001234567890, ou @canal)."
        )
    if gateways is not None and any(g.conta_id != destino.conta_id for g in gateways):
        errors["gateways"] = _("Escolha gateways desta conta.")
    if regras is not None and any(r.conta_id != destino.conta_id for r in regras):
        errors["regras"] = _("Escolha regras desta conta.")
    if errors:
        raise ValidationError(errors)


def _clear_other_channels(destino: DestinoNotificacao) -> None:
    """Only the fields of the target's own type are kept."""
    if destino.tipo != TipoDestino.MEMBRO:
        destino.membro = None
    if destino.tipo != TipoDestino.EMAIL:
        destino.email = ""
    if destino.tipo != TipoDestino.WEBHOOK:
        destino.webhook_url = ""
    if destino.tipo != TipoDestino.TELEGRAM:
        destino.telegram_chat_id = ""
        destino.telegram_bot_token = ""


@transaction.atomic
def destino_create(*, conta: Conta, gateways=None, regras=None, **data) -> DestinoNotificacao:
    unknown = set(data) - set(DESTINO_FIELDS)
    if unknown:
        raise TypeError(f"unknown target fields: {sorted(unknown)}")
    destino = DestinoNotificacao(conta=conta, **data)
    _clear_other_channels(destino)
    if destino.tipo == TipoDestino.WEBHOOK:
        destino.webhook_segredo = secrets.token_hex(32)
    gateways = list(gateways) if gateways is not None else None
    regras = list(regras) if regras is not None else None
    _validate_destino(destino, gateways=gateways, regras=regras)
    destino.save()
    destino.gateways.set(gateways or [])
    destino.regras.set(regras or [])
    return destino


@transaction.atomic
def destino_update(
    *, destino: DestinoNotificacao, gateways=None, regras=None, webhook_segredo=None, **data
) -> DestinoNotificacao:
    """Updates the allowlisted fields given; `gateways`/`regras` None keeps them."""
    unknown = set(data) - set(DESTINO_FIELDS)
    if unknown:
        raise TypeError(f"unknown target fields: {sorted(unknown)}")
    for field, value in data.items():
        setattr(destino, field, value)
    _clear_other_channels(destino)
    if webhook_segredo is not None:
        destino.webhook_segredo = webhook_segredo
    if destino.tipo == TipoDestino.WEBHOOK and not destino.webhook_segredo:
        destino.webhook_segredo = secrets.token_hex(32)
    gateways = list(gateways) if gateways is not None else None
    regras = list(regras) if regras is not None else None
    _validate_destino(destino, gateways=gateways, regras=regras)
    destino.save()
    if gateways is not None:
        destino.gateways.set(gateways)
    if regras is not None:
        destino.regras.set(regras)
    return destino


@transaction.atomic
def destino_novo_segredo(*, destino: DestinoNotificacao) -> DestinoNotificacao:
    destino.webhook_segredo = secrets.token_hex(32)
    destino.save(update_fields=["webhook_segredo", "updated_at"])
    return destino


@transaction.atomic
def destino_delete(*, destino: DestinoNotificacao) -> None:
    destino.delete()


def _endpoints_de_teste(destino: DestinoNotificacao) -> list[Endpoint]:
    """The target's endpoints as an alarm would reach them (a test is never muted)."""
    if destino.tipo != TipoDestino.MEMBRO:
        return [destino_endpoint(destino)]
    pref = PreferenciaMembro.objects.filter(conta_id=destino.conta_id, user=destino.membro).first()
    return member_endpoints(
        destino.membro, pref, destino_id=destino.pk, severidade=Severidade.CRITICO,
        moment=timezone.now(),
    )  # fmt: skip


@transaction.atomic
def destino_enviar_teste(*, destino: DestinoNotificacao) -> list[Envio]:
    """Queues a test message to each of the target's endpoints, now (not grouped)."""
    subject, text, payload = mensagens.render_teste(
        conta_nome=destino.conta.nome, destino_nome=destino.nome
    )
    envios = []
    for ep in _endpoints_de_teste(destino):
        envio = Envio(
            conta_id=destino.conta_id,
            destino=destino,
            canal=ep.canal,
            endereco=ep.endereco,
            assunto=subject,
            corpo=text,
            payload=dict(payload),
            proxima_tentativa_em=timezone.now(),
        )
        envio.payload["id"] = str(envio.chave_idempotencia)
        envio.save()
        envios.append(envio)
    if envios:
        transaction.on_commit(agendar_entrega)
    return envios


@transaction.atomic
def preferencia_update(*, conta: Conta, user, **data) -> PreferenciaMembro:
    unknown = set(data) - set(PREFERENCIA_FIELDS)
    if unknown:
        raise TypeError(f"unknown preference fields: {sorted(unknown)}")
    pref, _created = PreferenciaMembro.objects.get_or_create(conta=conta, user=user)
    for field, value in data.items():
        setattr(pref, field, value)
    errors = {}
    if pref.receber_telegram and not _CHAT_ID.match(pref.telegram_chat_id or ""):
        errors["telegram_chat_id"] = _("Informe seu chat id do Telegram para recebê-lo por lá.")
    if (pref.silencio_inicio is None) != (pref.silencio_fim is None):
        errors["silencio_fim"] = _("Informe o início e o fim do horário de silêncio.")
    if errors:
        raise ValidationError(errors)
    pref.full_clean(exclude=["conta", "user"])
    pref.save()
    return pref


@transaction.atomic
def configuracao_update(*, conta: Conta, **data) -> ConfiguracaoNotificacao:
    unknown = set(data) - set(CONFIGURACAO_FIELDS)
    if unknown:
        raise TypeError(f"unknown settings fields: {sorted(unknown)}")
    cfg, _created = ConfiguracaoNotificacao.objects.get_or_create(conta=conta)
    for field, value in data.items():
        setattr(cfg, field, value)
    cfg.full_clean(exclude=["conta"])
    cfg.save()
    return cfg

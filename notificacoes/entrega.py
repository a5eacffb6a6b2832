"""Delivery: compose the due outbox rows into messages, claim, send, mark.

At least once, never twice confirmed:
- compose: due `Notificacao` rows of one endpoint become one `Envio` with a fixed body and
  idempotency key (rows locked with SKIP LOCKED, so two workers never compose the same row);
- claim: an `Envio` is claimed for `TDS_NOTIFY_CLAIM_SECONDS` and an attempt row is opened,
  committed before anything is sent; a worker killed mid-send leaves the claim to expire;
  the next claim closes the dangling attempt as "interrompida" and sends the same message
  again (same key: the receiver drops the repeat);
- mark: only after the channel accepted; a failure schedules a retry with exponential
  backoff, up to `TDS_NOTIFY_MAX_ATTEMPTS`; the target's health follows.
"""

import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contas.models import Conta

from . import channels, mensagens
from .models import (
    Canal,
    DestinoNotificacao,
    Envio,
    EstadoEnvio,
    EstadoNotificacao,
    Evento,
    Notificacao,
    ResultadoTentativa,
    TentativaEnvio,
)

logger = logging.getLogger(__name__)
SEND_THREADS = 8


def compor_envios(*, now=None, limit: int = 5000) -> int:
    """Turns due outbox rows into messages, one per endpoint (split past
    TDS_NOTIFY_MAX_GROUP); returns the number of messages made."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Notificacao.objects.select_for_update(skip_locked=True)
            .filter(estado=EstadoNotificacao.PENDENTE, disponivel_em__lte=now)
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        rows = _cancel_stale_followups(rows)
        groups: dict[str, list[Notificacao]] = defaultdict(list)
        for row in rows:
            groups[row.chave_grupo].append(row)
        nomes = dict(
            Conta.objects.filter(pk__in={r.conta_id for r in rows}).values_list("pk", "nome")
        )
        envios, members = [], []
        size = settings.TDS_NOTIFY_MAX_GROUP
        for items in groups.values():
            for i in range(0, len(items), size):
                chunk = items[i : i + size]
                first = chunk[0]
                subject, text, payload = mensagens.render(
                    conta_nome=nomes.get(first.conta_id, ""),
                    items=[
                        {"evento": r.evento, "severidade": r.severidade,
                         "alarme_id": r.alarme_id, "dados": r.dados}
                        for r in chunk
                    ],
                )  # fmt: skip
                envio = Envio(
                    conta_id=first.conta_id,
                    destino_id=first.destino_id,
                    canal=first.canal,
                    endereco=first.endereco,
                    assunto=subject,
                    corpo=text,
                    payload=payload,
                    proxima_tentativa_em=min(now, timezone.now()),
                )
                payload["id"] = str(envio.chave_idempotencia)
                envios.append(envio)
                members.append(chunk)
        Envio.objects.bulk_create(envios)
        for envio, chunk in zip(envios, members, strict=True):
            for row in chunk:
                row.envio_id = envio.pk
                row.estado = EstadoNotificacao.AGRUPADA
        Notificacao.objects.bulk_update(
            [r for chunk in members for r in chunk], ["envio", "estado", "updated_at"]
        )
    return len(envios)


def _cancel_stale_followups(rows: list[Notificacao]) -> list[Notificacao]:
    """Reminders and escalations of alarms acknowledged or cleared since they were written
    are dropped: both stop on acknowledgement or clearing."""
    from .alarmes_bridge import alarmes_abertos_nao_reconhecidos

    followups = [r for r in rows if r.evento in (Evento.LEMBRETE, Evento.ESCALONAMENTO)]
    if not followups:
        return rows
    still_open = alarmes_abertos_nao_reconhecidos({r.alarme_id for r in followups})
    stale = [r for r in followups if r.alarme_id not in still_open]
    if stale:
        Notificacao.objects.filter(pk__in=[r.pk for r in stale]).update(
            estado=EstadoNotificacao.CANCELADA, updated_at=timezone.now()
        )
    stale_ids = {r.pk for r in stale}
    return [r for r in rows if r.pk not in stale_ids]


def reivindicar_envios(*, limit: int = 50, now=None) -> list[tuple[Envio, TentativaEnvio]]:
    """Claims due messages (pending, retry time reached, no live claim) and opens an attempt
    for each; committed before anything is sent."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.TDS_NOTIFY_CLAIM_SECONDS)
    with transaction.atomic():
        envios = list(
            Envio.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destino")
            .filter(estado=EstadoEnvio.PENDENTE, proxima_tentativa_em__lte=now)
            .filter(Q(reivindicado_ate__isnull=True) | Q(reivindicado_ate__lt=now))
            .order_by("proxima_tentativa_em", "id")[:limit]
        )
        if not envios:
            return []
        TentativaEnvio.objects.filter(
            envio__in=envios, resultado=ResultadoTentativa.EM_ANDAMENTO
        ).update(
            resultado=ResultadoTentativa.INTERROMPIDA,
            fim=now,
            erro=_(
                "O entregador parou antes de registrar o resultado; reenviada com a mesma chave."
            ),
            updated_at=now,
        )
        for e in envios:
            e.tentativas += 1
            e.reivindicado_ate = now + lease
        Envio.objects.bulk_update(envios, ["tentativas", "reivindicado_ate", "updated_at"])
        tentativas = TentativaEnvio.objects.bulk_create(
            [
                TentativaEnvio(conta_id=e.conta_id, envio=e, numero=e.tentativas, inicio=now)
                for e in envios
            ]
        )
    return list(zip(envios, tentativas, strict=True))


def enviar(envio: Envio) -> channels.Accepted:
    """Sends one message through its channel (no database access)."""
    key = str(envio.chave_idempotencia)
    destino = envio.destino
    if envio.canal == Canal.WEBHOOK:
        if destino is None or not destino.webhook_segredo:
            raise channels.ChannelError("webhook sem segredo configurado")
        return channels.send_webhook(
            url=envio.endereco,
            secret=destino.webhook_segredo,
            key=key,
            payload=envio.payload,
            event=envio.payload.get("tipo", "alarmes"),
        )
    if envio.canal == Canal.TELEGRAM:
        token = destino.telegram_bot_token if destino is not None else ""
        return channels.send_telegram(
            chat_id=envio.endereco,
            text=f"{envio.assunto}\n\n{envio.corpo}",
            bot_token=token,
            key=key,
        )
    if envio.canal == Canal.EMAIL:
        return channels.send_email(
            to=envio.endereco,
            subject=envio.assunto,
            text=envio.corpo,
            html=envio.payload.get("html"),
            key=key,
        )
    raise channels.ChannelError(f"canal desconhecido: {envio.canal}")


def backoff(tentativas: int) -> timedelta:
    """Exponential: base × 2^(n−1), capped."""
    seconds = settings.TDS_NOTIFY_RETRY_BASE_SECONDS * (2 ** max(0, tentativas - 1))
    return timedelta(seconds=min(seconds, settings.TDS_NOTIFY_RETRY_MAX_SECONDS))


def registrar_resultado(
    *, envio: Envio, tentativa: TentativaEnvio, ok: bool, status: str = "", erro: str = ""
) -> None:
    now = timezone.now()
    with transaction.atomic():
        TentativaEnvio.objects.filter(pk=tentativa.pk).update(
            fim=now,
            resultado=ResultadoTentativa.SUCESSO if ok else ResultadoTentativa.FALHA,
            status=status[:40],
            erro=erro[:2000],
            updated_at=now,
        )
        current = Envio.objects.select_for_update().get(pk=envio.pk)
        if current.estado != EstadoEnvio.PENDENTE:
            return  # marked by another attempt already
        if ok:
            current.estado = EstadoEnvio.ENVIADA
            current.enviado_em = now
            current.ultimo_erro = ""
        elif current.tentativas >= settings.TDS_NOTIFY_MAX_ATTEMPTS:
            current.estado = EstadoEnvio.FALHOU
            current.ultimo_erro = erro[:2000]
        else:
            current.proxima_tentativa_em = now + backoff(current.tentativas)
            current.ultimo_erro = erro[:2000]
        current.reivindicado_ate = None
        current.save(
            update_fields=[
                "estado", "enviado_em", "ultimo_erro", "proxima_tentativa_em",
                "reivindicado_ate", "updated_at",
            ]
        )  # fmt: skip
        if current.destino_id is not None:
            _destino_saude(current.destino_id, ok=ok, erro=erro, now=now)


def _destino_saude(destino_id: int, *, ok: bool, erro: str, now) -> None:
    qs = DestinoNotificacao.objects.filter(pk=destino_id)
    if ok:
        qs.update(falhas_consecutivas=0, falhando_desde=None, ultimo_sucesso_em=now)
        return
    qs.update(falhas_consecutivas=F("falhas_consecutivas") + 1, ultimo_erro=erro[:2000])
    qs.filter(
        falhando_desde__isnull=True, falhas_consecutivas__gte=settings.TDS_NOTIFY_FAILING_AFTER
    ).update(falhando_desde=now)


def _send_one(envio: Envio) -> tuple[bool, str, str]:
    try:
        accepted = enviar(envio)
        return True, accepted.status, ""
    except channels.ChannelError as exc:
        return False, exc.status, str(exc)
    except Exception as exc:  # a bug must not stop the other messages
        logger.exception("event=notify_send_error envio=%s", envio.pk)
        return False, "", f"erro interno: {exc!r}"


def _anything_due() -> bool:
    now = timezone.now()
    return (
        Notificacao.objects.filter(
            estado=EstadoNotificacao.PENDENTE, disponivel_em__lte=now
        ).exists()
        or Envio.objects.filter(estado=EstadoEnvio.PENDENTE, proxima_tentativa_em__lte=now)
        .filter(Q(reivindicado_ate__isnull=True) | Q(reivindicado_ate__lt=now))
        .exists()
    )


def entregar_pendentes(*, budget_seconds: float = 30.0, batch: int = 50) -> dict:
    """One delivery run: compose what is due, then claim and send until nothing is due or
    the time budget is spent (the sweep continues from there)."""
    started = time.monotonic()
    stats = {"compostos": 0, "enviados": 0, "falhas": 0}
    if not _anything_due():
        return stats
    with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
        while time.monotonic() - started < budget_seconds:
            stats["compostos"] += compor_envios()
            claimed = reivindicar_envios(limit=batch)
            if not claimed:
                break
            results = pool.map(lambda pair: _send_one(pair[0]), claimed)
            for (envio, tentativa), (ok, status, erro) in zip(claimed, results, strict=True):
                registrar_resultado(
                    envio=envio, tentativa=tentativa, ok=ok, status=status, erro=erro
                )
                stats["enviados" if ok else "falhas"] += 1
    return stats

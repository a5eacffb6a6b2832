"""The outbox writer: who hears of an alarm event, written in the caller's transaction.

`notificar(evento)` runs inside the alarm transition's transaction (from the signal
receiver), so the notification exists exactly when the transition does. A delivery task is
queued after commit; if the broker is away, the beat sweep delivers it later.
"""

import contextlib
import hashlib
import logging
import math
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from contas.models import ContaMembership, Role

from .models import (
    SEVERIDADE_ORDEM,
    Canal,
    DestinoNotificacao,
    EstadoNotificacao,
    Notificacao,
    PreferenciaMembro,
    Severidade,
    TipoDestino,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventoAlarme:
    """One alarm event to report. `origem` names it uniquely (e.g. "transicao:42",
    "lembrete:7:3"), which makes writing it twice a no-op."""

    conta_id: int
    alarme_id: int | None
    origem: str
    evento: str
    severidade: str
    regra_id: int | None = None
    gateway_id: int | None = None
    dados: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    destino_id: int | None
    canal: str
    endereco: str
    silenciado: bool = False
    user_id: int | None = None

    @property
    def grupo(self) -> str:
        who = self.destino_id if self.destino_id is not None else f"u{self.user_id}"
        digest = hashlib.sha256(self.endereco.encode()).hexdigest()[:20]
        return f"{who}:{self.canal}:{digest}"


def membros(**filters):
    """Memberships that give access: accepted ones only (a membership with no
    `accepted_at` is a pending invitation). A pending invitee hears nothing, and is not an
    admin to escalate to."""
    return ContaMembership.objects.filter(accepted_at__isnull=False, **filters)


def em_silencio(pref: PreferenciaMembro | None, moment: datetime) -> bool:
    """Inside the member's quiet hours (local time; a window may cross midnight)."""
    if pref is None or pref.silencio_inicio is None or pref.silencio_fim is None:
        return False
    start, end = pref.silencio_inicio, pref.silencio_fim
    now: time = timezone.localtime(moment).time()
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def member_endpoints(user, pref, *, destino_id, severidade, moment) -> list[Endpoint]:
    """A member's channels, through their own preferences (quiet hours mute all but
    critical)."""
    quiet = severidade != Severidade.CRITICO and em_silencio(pref, moment)
    eps = []
    if pref is None or pref.receber_email:
        eps.append(Endpoint(destino_id, Canal.EMAIL, user.email, quiet, user.pk))
    if pref is not None and pref.receber_telegram and pref.telegram_chat_id:
        eps.append(Endpoint(destino_id, Canal.TELEGRAM, pref.telegram_chat_id, quiet, user.pk))
    return eps


def destinos_para(evento: EventoAlarme) -> list[DestinoNotificacao]:
    """The account's active targets whose filters take this event, filtered in one query
    (loading every target with its filters per transition cost ~0.4 s at 100 targets)."""
    # A target's minimum takes its own severity and every more severe one (0 = crítico).
    order = SEVERIDADE_ORDEM.get(evento.severidade, len(SEVERIDADE_ORDEM))
    allowed = [s for s, o in SEVERIDADE_ORDEM.items() if o >= order]
    by_gateway = DestinoNotificacao.gateways.through.objects.filter(
        destinonotificacao_id=OuterRef("pk")
    )
    by_regra = DestinoNotificacao.regras.through.objects.filter(
        destinonotificacao_id=OuterRef("pk")
    )
    return list(
        DestinoNotificacao.objects.filter(
            conta_id=evento.conta_id, ativo=True, severidade_minima__in=allowed
        )
        .filter(~Exists(by_gateway) | Exists(by_gateway.filter(gateway_id=evento.gateway_id)))
        .filter(~Exists(by_regra) | Exists(by_regra.filter(regraalarme_id=evento.regra_id)))
        .order_by("pk")
    )


def endpoints_para(evento: EventoAlarme, *, moment: datetime) -> list[Endpoint]:
    destinos = destinos_para(evento)
    member_ids = [d.membro_id for d in destinos if d.tipo == TipoDestino.MEMBRO]
    prefs = _prefs(evento.conta_id, member_ids) if member_ids else {}
    members = _active_members(evento.conta_id, member_ids) if member_ids else {}
    eps: list[Endpoint] = []
    for d in destinos:
        if d.tipo == TipoDestino.MEMBRO:
            user = members.get(d.membro_id)
            if user is not None:  # no longer a member: hears nothing
                eps += member_endpoints(
                    user, prefs.get(user.pk), destino_id=d.pk, severidade=evento.severidade,
                    moment=moment,
                )  # fmt: skip
        elif d.tipo in _CANAL_DO_TIPO:
            eps.append(destino_endpoint(d))
    return eps


_CANAL_DO_TIPO = {
    TipoDestino.EMAIL: (Canal.EMAIL, "email"),
    TipoDestino.WEBHOOK: (Canal.WEBHOOK, "webhook_url"),
    TipoDestino.TELEGRAM: (Canal.TELEGRAM, "telegram_chat_id"),
}


def destino_endpoint(d: DestinoNotificacao) -> Endpoint:
    """The one endpoint of an e-mail, webhook or Telegram target."""
    canal, campo = _CANAL_DO_TIPO[d.tipo]
    return Endpoint(d.pk, canal, getattr(d, campo))


def admin_endpoints(evento: EventoAlarme, *, moment: datetime) -> list[Endpoint]:
    """The account's admins, through their own preferences (escalation)."""
    admin_ids = list(
        membros(conta_id=evento.conta_id, role=Role.ADMIN).values_list("user_id", flat=True)
    )
    prefs = _prefs(evento.conta_id, admin_ids)
    users = get_user_model().objects.filter(pk__in=admin_ids, is_active=True).order_by("pk")
    eps = []
    for user in users:
        eps += member_endpoints(
            user, prefs.get(user.pk), destino_id=None, severidade=evento.severidade, moment=moment
        )
    return eps


def _prefs(conta_id: int, user_ids) -> dict:
    return {
        p.user_id: p
        for p in PreferenciaMembro.objects.filter(conta_id=conta_id, user_id__in=user_ids)
    }


def _active_members(conta_id: int, user_ids) -> dict:
    ids = membros(conta_id=conta_id, user_id__in=user_ids).values("user_id")
    return {u.pk: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}


def notificar(evento: EventoAlarme, *, para_admins: bool = False, now=None) -> int:
    """Writes the outbox rows of one event (to the matching targets, or to the account's
        admins for an escalation); returns how many endpoints it names (a repeat of the same
    `origem` writes nothing new). Call inside the transaction that
        makes the event true."""
    now = now or timezone.now()
    eps = admin_endpoints(evento, moment=now) if para_admins else endpoints_para(evento, moment=now)
    seen, rows = set(), []
    # Due by the clock, even when `now` (the event's moment) is given for a catch-up.
    due = min(now, timezone.now()) + timedelta(seconds=settings.TDS_NOTIFY_GROUP_SECONDS)
    open_groups = dict(
        Notificacao.objects.filter(
            estado=EstadoNotificacao.PENDENTE, chave_grupo__in=[e.grupo for e in eps]
        )
        .values_list("chave_grupo")
        .annotate(due=Min("disponivel_em"))
    )
    for ep in eps:
        chave = f"{evento.origem}|{ep.grupo}"
        if chave in seen:
            continue
        seen.add(chave)
        rows.append(
            Notificacao(
                conta_id=evento.conta_id,
                alarme_id=evento.alarme_id,
                evento=evento.evento,
                severidade=evento.severidade,
                destino_id=ep.destino_id,
                canal=ep.canal,
                endereco=ep.endereco,
                dados=evento.dados,
                chave=chave,
                chave_grupo=ep.grupo,
                estado=EstadoNotificacao.SILENCIADA
                if ep.silenciado
                else EstadoNotificacao.PENDENTE,
                # Join the endpoint's open group (one message for a burst), else open one.
                disponivel_em=open_groups.get(ep.grupo, due),
            )
        )
    if not rows:
        return 0
    Notificacao.objects.bulk_create(rows, ignore_conflicts=True)
    if any(r.estado == EstadoNotificacao.PENDENTE for r in rows):
        first_due = min(r.disponivel_em for r in rows)
        countdown = max(0.0, (first_due - timezone.now()).total_seconds())
        transaction.on_commit(lambda: agendar_entrega(countdown=countdown))
    return len(rows)


def agendar_entrega(*, countdown: float = 0.0) -> bool:
    """Queues a delivery run at the end of the whole second in which the rows fall due; one
    run per second however many transitions commit in it (a burst of 1,000 alarms queued
    1,000 runs before, most of them finding nothing to do). Never raises: the beat sweep
    covers a lost task or a broker outage."""
    if not settings.TDS_NOTIFY_ENQUEUE:
        return False
    from prj_tds_new.celery import app

    from .tasks import entregar_task

    slot = math.ceil(clock.time() + countdown)
    key = f"notificacoes:entrega:{connection.settings_dict['NAME']}:{slot}"
    try:
        if not cache.add(key, 1, timeout=int(countdown) + 60):
            return True  # a run at that second is already queued
    except Exception as exc:  # the cache is Redis too: queue anyway
        logger.warning("event=notify_dedupe_failed error=%r", exc)
    try:
        # A fresh connection each time: nothing stale survives a broker restart.
        with app.connection_for_write() as conn:
            entregar_task.apply_async(
                countdown=max(0.0, slot - clock.time()),
                queue=settings.TDS_NOTIFY_QUEUE,
                connection=conn,
                retry=False,
            )
        return True
    except Exception as exc:
        logger.warning("event=notify_enqueue_failed error=%r (the sweep will deliver)", exc)
        with contextlib.suppress(Exception):  # best effort; the key expires anyway
            cache.delete(key)
        return False

"""Reminders while an alarm stays active and unacknowledged, and escalation to the
account's admins after a while; both stop on acknowledgement or clearing (only `ativo`
alarms are looked at, and a follow-up still waiting in the outbox is cancelled at
composition when its alarm moved on)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .alarmes_bridge import alarmes_ativos, snapshot
from .models import ConfiguracaoNotificacao, Evento, Notificacao
from .outbox import EventoAlarme, notificar


def configuracao(conta_id: int) -> ConfiguracaoNotificacao:
    """The account's settings (defaults when never saved)."""
    return ConfiguracaoNotificacao.objects.filter(conta_id=conta_id).first() or (
        ConfiguracaoNotificacao(conta_id=conta_id)
    )


def lembretes_e_escalonamentos(*, now=None) -> dict:
    """Writes the reminders and escalations due now. Each is named by its alarm and its
    number (`lembrete:<alarme>:<n>`), so running twice, or two beats at once, writes it
    once; after a pause only the latest reminder is sent, not the missed ones."""
    now = now or timezone.now()
    configs: dict[int, ConfiguracaoNotificacao] = {}
    done = {"lembretes": 0, "escalonamentos": 0}
    alarmes = list(alarmes_ativos())
    written = set(
        Notificacao.objects.filter(
            alarme_id__in=[a.pk for a in alarmes],
            evento__in=[Evento.LEMBRETE, Evento.ESCALONAMENTO],
        ).values_list("chave", flat=True)
    )
    written_origins = {c.split("|", 1)[0] for c in written}
    for alarme in alarmes:
        cfg = configs.get(alarme.conta_id) or configs.setdefault(
            alarme.conta_id, configuracao(alarme.conta_id)
        )
        age = now - alarme.inicio
        todo = []
        if cfg.lembrete_minutos:
            n = int(age / timedelta(minutes=cfg.lembrete_minutos))
            if n >= 1:
                todo.append((f"lembrete:{alarme.pk}:{n}", Evento.LEMBRETE, False))
        if cfg.escalonamento_minutos and age >= timedelta(minutes=cfg.escalonamento_minutos):
            todo.append((f"escalonamento:{alarme.pk}", Evento.ESCALONAMENTO, True))
        for origem, evento, admins in todo:
            if origem in written_origins:
                continue
            with transaction.atomic():
                notificar(
                    EventoAlarme(
                        conta_id=alarme.conta_id,
                        alarme_id=alarme.pk,
                        origem=origem,
                        evento=evento,
                        severidade=alarme.severidade,
                        regra_id=alarme.regra_id,
                        gateway_id=alarme.gateway_id,
                        dados=snapshot(alarme, em=now),
                    ),
                    para_admins=admins,
                    now=now,
                )
            done["escalonamentos" if admins else "lembretes"] += 1
    return done

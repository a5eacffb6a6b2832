"""Writes the outbox rows of an alarm transition inside the transition's transaction."""

from django.dispatch import receiver

from alarmes.signals import alarm_transitioned

from .alarmes_bridge import evento_de_transicao
from .outbox import notificar


@receiver(alarm_transitioned, dispatch_uid="notificacoes.outbox")
def _write_outbox(sender, transicao, **kwargs):
    evento = evento_de_transicao(transicao)
    if evento is not None:
        notificar(evento)

"""Celery tasks of the notifications. Thin: unscoped context, one service each; beat
schedule in prj_tds_new/celery.py."""

from celery import shared_task
from django_scopes import scopes_disabled


@shared_task(name="notificacoes.entregar", ignore_result=True)
def entregar_task() -> dict:
    """Compose and send what is due (queued after each outbox commit, and by beat)."""
    from .entrega import entregar_pendentes

    with scopes_disabled():
        return entregar_pendentes()


@shared_task(name="notificacoes.lembretes", ignore_result=True)
def lembretes_task() -> dict:
    """Reminders and escalation of active, unacknowledged alarms."""
    from .lembretes import lembretes_e_escalonamentos

    with scopes_disabled():
        return lembretes_e_escalonamentos()


@shared_task(name="notificacoes.resumo_diario", ignore_result=True)
def resumo_diario_task() -> int:
    """The daily digest e-mail of the members who asked for it."""
    from .resumo import resumos_do_dia

    with scopes_disabled():
        return resumos_do_dia()

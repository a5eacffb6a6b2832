"""Reads of the notification pages. Look-ups by id answer 404 for another account's (an
alarm through alarmes.selectors.alarme_get)."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from alarmes.models import Alarme
from contas.models import Conta

from .models import DestinoNotificacao, Envio, Notificacao, PreferenciaMembro, TentativaEnvio


def destino_list(*, conta: Conta) -> QuerySet:
    return (
        DestinoNotificacao.objects.filter(conta=conta)
        .select_related("membro")
        .prefetch_related("gateways", "regras")
    )


def destino_get(*, conta: Conta, pk) -> DestinoNotificacao:
    try:
        return destino_list(conta=conta).get(pk=pk)
    except (DestinoNotificacao.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _with_attempts(qs: QuerySet) -> QuerySet:
    return qs.prefetch_related(
        Prefetch("tentativas_log", queryset=TentativaEnvio.objects.order_by("numero"))
    )


def envios_do_destino(*, destino: DestinoNotificacao, limit: int = 50) -> list[Envio]:
    qs = Envio.objects.filter(conta_id=destino.conta_id, destino=destino).order_by("-created_at")
    return list(_with_attempts(qs)[:limit])


def entregas_do_alarme(*, alarme: Alarme) -> list[Notificacao]:
    """Every outbox row of the alarm (who, which channel, which event) with its message
    and that message's attempts, oldest first."""
    qs = (
        Notificacao.objects.filter(conta_id=alarme.conta_id, alarme=alarme)
        .select_related("destino", "envio")
        .prefetch_related(
            Prefetch("envio__tentativas_log", queryset=TentativaEnvio.objects.order_by("numero"))
        )
        .order_by("created_at", "id")
    )
    return list(qs[:500])


def preferencia_get(*, conta: Conta, user) -> PreferenciaMembro:
    """The member's preferences (unsaved defaults when never saved)."""
    return PreferenciaMembro.objects.filter(conta=conta, user=user).first() or PreferenciaMembro(
        conta=conta, user=user
    )

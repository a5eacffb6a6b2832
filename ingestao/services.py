"""Writes of the consumer: dead letters, in the caller's transaction. (Gateway status is
dispositivos' to write: dispositivos.services.gateways_touch.)"""

from collections.abc import Iterable

from django_scopes import scopes_disabled

from .models import MensagemRejeitada


def rejeitadas_store(*, items: Iterable[dict]) -> int:
    """Bulk-insert dead letters: dicts with recebida_em, topico, payload, motivo, detalhe,
    gateway_id, conta_id."""
    objs = [MensagemRejeitada(**item) for item in items]
    if objs:
        with scopes_disabled():
            MensagemRejeitada.objects.bulk_create(objs)
    return len(objs)

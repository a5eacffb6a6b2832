"""Thin Celery task: generate a period's statements (ids in, service does the work)."""

from celery import shared_task
from django_scopes import scopes_disabled


@shared_task(name="faturamento.gerar_demonstrativos")
def gerar_demonstrativos_task(geracao_id: int) -> dict:
    from .jobs import geracao_executar

    with scopes_disabled():
        geracao = geracao_executar(geracao_id=geracao_id)
    return {"status": geracao.status, "feitos": geracao.feitos}

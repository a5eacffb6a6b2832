"""Celery tasks of the registry. Thin: they open an unscoped context and call a service."""

from celery import shared_task
from django_scopes import scopes_disabled

from .services import gateways_mark_offline


@shared_task(name="dispositivos.gateways_check_offline", ignore_result=True)
def gateways_check_offline() -> int:
    """Beat job (prj_tds_new/celery.py): takes silent gateways offline."""
    with scopes_disabled():
        return len(gateways_mark_offline())

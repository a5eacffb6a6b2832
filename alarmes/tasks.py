"""Celery tasks of the alarm app: the window rules. Thin: unscoped context, one lock,
the engine."""

from celery import shared_task
from django_scopes import scopes_disabled

from telemetria.storage.locks import try_advisory_lock

from . import engine


@shared_task(name="alarmes.evaluate_windows", ignore_result=True)
def evaluate_windows() -> dict | None:
    """Beat job (prj_tds_new/celery.py), every minute: leak nights, day consumption and
    median spikes of the days that ended, devices without data, gateways offline. Each
    window is judged once per (rule, device); a second worker running at the same time
    skips (the alarm index would stop twins anyway, the lock keeps night counts right)."""
    with scopes_disabled(), try_advisory_lock("alarmes.evaluate_windows") as acquired:
        if not acquired:
            return None
        return engine.evaluate_windows()

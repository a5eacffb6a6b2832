"""Periodic jobs of the ingest app (thin: they call services)."""

import datetime as dt

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(name="ingestao.rejeitadas_purge")
def rejeitadas_purge() -> int:
    """Dead letters past TDS_DEAD_LETTER_RETENTION_DAYS (default 30) are deleted."""
    days = settings.TDS_DEAD_LETTER_RETENTION_DAYS
    before = dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=days)
    return services.rejeitadas_purge(before=before)

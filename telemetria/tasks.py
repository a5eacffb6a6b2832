"""Celery tasks: thin wrappers over the storage jobs (idempotent, lock-protected)."""

import json
import time

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from .models import ExecucaoManutencao
from .storage import partitions, rollups


@shared_task(name="telemetria.refresh_rollups")
def refresh_rollups_task() -> dict:
    with scopes_disabled():
        return rollups.refresh_rollups()._asdict()


@shared_task(name="telemetria.maintain_storage")
def maintain_storage_task() -> dict:
    """Partitions and retention (native), retention and compression (TimescaleDB); each
    run, and its failure, recorded for the admin's storage page."""
    started, t0 = timezone.now(), time.monotonic()
    try:
        with scopes_disabled():
            result = partitions.maintain_partitions()
    except Exception as exc:
        ExecucaoManutencao.objects.create(
            job="maintain_storage",
            started_at=started,
            duration_s=time.monotonic() - t0,
            ok=False,
            detalhe=f"{type(exc).__name__}: {exc}"[:4000],
        )
        raise
    summary = {
        "skipped": result.skipped,
        "created": [d.isoformat() for d in result.created],
        "dropped": [d.isoformat() for d in result.dropped],
        "moved": result.moved,
        "purged": result.purged,
        "chunks_dropped": result.chunks_dropped,
        "chunks_compressed": result.chunks_compressed,
    }
    if not result.skipped:
        ExecucaoManutencao.objects.create(
            job="maintain_storage",
            started_at=started,
            duration_s=time.monotonic() - t0,
            detalhe=json.dumps(summary)[:4000],
        )
    return summary

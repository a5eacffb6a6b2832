"""Celery tasks: thin wrappers over the storage jobs (idempotent, lock-protected)."""

from celery import shared_task
from django_scopes import scopes_disabled

from .storage import partitions, rollups


@shared_task(name="telemetria.refresh_rollups")
def refresh_rollups_task() -> dict:
    with scopes_disabled():
        return rollups.refresh_rollups()._asdict()


@shared_task(name="telemetria.maintain_storage")
def maintain_storage_task() -> dict:
    with scopes_disabled():
        result = partitions.maintain_partitions()
    return {
        "skipped": result.skipped,
        "created": [d.isoformat() for d in result.created],
        "dropped": [d.isoformat() for d in result.dropped],
        "moved": result.moved,
        "purged": result.purged,
    }

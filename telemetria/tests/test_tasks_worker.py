"""A real Celery worker (subprocess) runs the storage jobs through the real Redis broker."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tds_testing.celery_worker import queue_worker
from tds_testing.readings import local
from telemetria.storage.tables import PENDING
from telemetria.tasks import maintain_storage_task, refresh_rollups_task

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_store"),
    pytest.mark.slow,
]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def worker_queue():
    """Start `celery worker` on a private queue, against the test database; stop it after."""
    with queue_worker({"DJANGO_SETTINGS_MODULE": "prj_tds_new.settings"}) as queue:
        yield queue


def pending_count() -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {PENDING}")
        return cur.fetchone()[0]


def test_worker_runs_rollup_and_partition_jobs_through_redis(worker_queue, energia, store):
    store(energia, [(local(2026, 1, 10, 12, 0), 100), (local(2026, 1, 11, 12, 0), 130)])
    assert pending_count() == 2

    result = refresh_rollups_task.apply_async(queue=worker_queue).get(timeout=60)

    assert result == {"skipped": False, "buckets": 2}
    assert pending_count() == 0
    maintenance = maintain_storage_task.apply_async(queue=worker_queue).get(timeout=60)
    assert maintenance["skipped"] is False

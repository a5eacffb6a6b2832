"""Native back end: day partitions, the default partition, retention."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import override_settings

from tds_testing.readings import utc
from telemetria.models import LeituraDispositivo
from telemetria.storage import is_timescale
from telemetria.storage.partitions import existing_partitions, maintain_partitions
from telemetria.storage.tables import DEFAULT_PARTITION

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]


@pytest.fixture(autouse=True)
def _native_only(db):
    if is_timescale():
        pytest.skip("native back end only: on TimescaleDB chunks and retention are the extension's")


def in_default() -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {DEFAULT_PARTITION}")
        return cur.fetchone()[0]


def test_partitions_ahead_and_default_rows_moved_on_creation(energia, store):
    today = date(2026, 6, 10)
    store(energia, [(utc(2026, 6, 1, 12, 0), 1), (utc(2026, 6, 1, 13, 0), 2)])  # no partition yet
    store(energia, [(utc(2090, 1, 1, 0, 0), 3)])  # far future: stays in default
    assert in_default() == 3

    result = maintain_partitions(today=today)

    assert {today + timedelta(days=i) for i in range(-1, 8)} <= existing_partitions()
    assert date(2026, 6, 1) in result.created
    assert result.moved == 2
    assert in_default() == 1
    assert LeituraDispositivo.objects.filter(dispositivo=energia).count() == 3
    # Idempotent: nothing left to do.
    again = maintain_partitions(today=today)
    assert (again.created, again.dropped, again.moved) == ([], [], 0)


@override_settings(TDS_RETENTION_DAYS=30)
def test_retention_drops_old_partitions_and_purges_default(energia, store):
    maintain_partitions(today=date(2026, 6, 10))
    store(energia, [(utc(2026, 6, 10, 12, 0), 1), (utc(2020, 1, 1, 0, 0), 2)])

    result = maintain_partitions(today=date(2026, 8, 1))

    assert date(2026, 6, 10) in result.dropped
    assert result.purged == 1  # the 2020 reading in the default partition
    assert min(existing_partitions()) >= date(2026, 7, 2)
    assert LeituraDispositivo.objects.filter(dispositivo=energia).count() == 0


def test_concurrent_run_skips(energia):
    from telemetria.storage.locks import try_advisory_lock

    with try_advisory_lock("maintain_partitions") as acquired:
        assert acquired
        # Same lock from another session: the job must skip, not wait or duplicate work.
        from threading import Thread

        outcome = {}

        def other_worker():
            from django.db import connection as conn

            outcome["result"] = maintain_partitions(today=date(2026, 6, 10))
            conn.close()

        t = Thread(target=other_worker)
        t.start()
        t.join(30)
    assert outcome["result"].skipped is True

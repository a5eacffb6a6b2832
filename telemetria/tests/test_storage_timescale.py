"""TimescaleDB back end specifics; skipped (saying why) on the native back end."""

import pytest
from django.core.management import call_command
from django.db import connection

from telemetria.storage import backend_name, is_timescale
from telemetria.storage.tables import DAILY, MONTHLY, READINGS

pytestmark = [pytest.mark.django_db, pytest.mark.timescale]


@pytest.fixture(autouse=True)
def _needs_timescale(db):
    if not is_timescale():
        pytest.skip(
            "TimescaleDB extension not available in this database: the native back end is in use"
        )


def fetch(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_hypertable_with_one_day_chunks_and_compression():
    rows = fetch(
        "SELECT d.time_interval, h.compression_enabled"
        " FROM timescaledb_information.dimensions d"
        " JOIN timescaledb_information.hypertables h USING (hypertable_name)"
        " WHERE hypertable_name = %s",
        [READINGS],
    )
    assert [(str(i), c) for i, c in rows] == [("1 day, 0:00:00", True)]


def test_continuous_aggregates_and_policies():
    caggs = fetch(
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
        " ORDER BY view_name"
    )
    assert caggs == [(DAILY, True), (MONTHLY, True)]
    jobs = dict(
        fetch(
            "SELECT coalesce(hypertable_name, '') || ':' || proc_name, config->>'compress_after'"
            " FROM timescaledb_information.jobs WHERE proc_name LIKE 'policy_%%'"
        )
    )
    assert jobs[f"{READINGS}:policy_compression"] == "7 days"
    assert f"{READINGS}:policy_retention" in jobs
    refresh = fetch(
        "SELECT count(*) FROM timescaledb_information.jobs"
        " WHERE proc_name = 'policy_refresh_continuous_aggregate'"
    )
    assert refresh == [(2,)]


def test_retention_policy_follows_the_setting(settings):
    from telemetria.storage.partitions import maintain_partitions

    settings.TDS_RETENTION_DAYS = 400
    maintain_partitions()
    rows = fetch(
        "SELECT config->>'drop_after' FROM timescaledb_information.jobs"
        " WHERE proc_name = 'policy_retention' AND hypertable_name = %s",
        [READINGS],
    )
    assert rows == [("400 days",)]


def test_backend_is_reported(capsys):
    call_command("storage_backend")
    assert capsys.readouterr().out.strip() == backend_name() == "timescaledb"

"""TimescaleDB back end specifics; skipped (saying why) on the native back end."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tds_testing import factories
from telemetria.storage import ReadingRow, backend_name, insert_readings, is_timescale
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


def test_continuous_aggregates_and_their_refresh_policies():
    """The aggregates keep their refresh policies as a safety net; retention and
    compression are not the scheduler's any more (migration 0003, timescale_jobs.py)."""
    caggs = fetch(
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
        " ORDER BY view_name"
    )
    assert caggs == [(DAILY, True), (MONTHLY, True)]
    policies = fetch(
        "SELECT proc_name, count(*) FROM timescaledb_information.jobs"
        " WHERE proc_name IN ('policy_refresh_continuous_aggregate', 'policy_retention',"
        " 'policy_compression') GROUP BY proc_name"
    )
    assert policies == [("policy_refresh_continuous_aggregate", 2)]


def test_retention_follows_the_setting(conta_a, settings):
    """maintain_partitions (the beat job) drops the chunks older than TDS_RETENTION_DAYS
    and only those."""
    from telemetria.storage.partitions import maintain_partitions

    gw = factories.make_gateway(conta=conta_a, codigo="GW-RET")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    now = timezone.now()
    insert_readings(
        [
            ReadingRow(now - dt.timedelta(days=n), conta_a.pk, gw.pk, d.pk, Decimal(n), "kWh", None)
            for n in (2, 45)
        ]
    )

    def kept():
        rows = fetch(f"SELECT valor FROM {READINGS} WHERE dispositivo_id = %s", [d.pk])
        return sorted(v for (v,) in rows)

    settings.TDS_RETENTION_DAYS = 400
    assert maintain_partitions().chunks_dropped == []
    assert kept() == [Decimal(2), Decimal(45)]
    settings.TDS_RETENTION_DAYS = 30
    assert len(maintain_partitions().chunks_dropped) == 1
    assert kept() == [Decimal(2)]


def test_backend_is_reported(capsys):
    call_command("storage_backend")
    assert capsys.readouterr().out.strip() == backend_name() == "timescaledb"

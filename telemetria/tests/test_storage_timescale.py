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


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_store")
def test_late_and_redelivered_readings_into_a_compressed_chunk(conta_a, settings):
    """A gateway backfilling old readings writes into a chunk our job already compressed:
    a reading stored before stays single (the fast COPY path must still see the key), a
    new one is stored, and the month's consumption counts it."""
    from telemetria.storage import consumption_by_month, refresh_rollups
    from telemetria.storage.partitions import maintain_partitions
    from telemetria.storage.sql import local_midnight

    gw = factories.make_gateway(conta=conta_a, codigo="GW-CMP")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    day = timezone.localdate() - dt.timedelta(days=10)
    noon = local_midnight(day) + dt.timedelta(hours=12)

    def reading(hours, valor):
        t = noon + dt.timedelta(hours=hours)
        return ReadingRow(t, conta_a.pk, gw.pk, d.pk, Decimal(valor), "kWh", None)

    insert_readings([reading(0, 100), reading(1, 110)])
    refresh_rollups()
    settings.TDS_RETENTION_DAYS = 400
    assert maintain_partitions().chunks_compressed
    compressed = fetch(
        "SELECT count(*) FROM timescaledb_information.chunks"
        " WHERE hypertable_name = %s AND is_compressed AND range_start <= %s AND %s < range_end",
        [READINGS, noon, noon],
    )
    assert compressed == [(1,)]

    again = insert_readings([reading(0, 100)])
    assert (again.inserted, again.duplicates) == (0, 1)
    late = insert_readings([reading(1, 110), reading(2, 125)])
    assert (late.inserted, late.duplicates) == (1, 1)
    stored = fetch(f"SELECT valor FROM {READINGS} WHERE dispositivo_id = %s ORDER BY time", [d.pk])
    assert [v for (v,) in stored] == [Decimal(100), Decimal(110), Decimal(125)]

    month = day.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    for _ in range(2):  # real-time (pending day), then from the refreshed aggregates
        (row,) = consumption_by_month(conta_id=conta_a.pk, start=month, end=next_month)
        assert (row.consumo, row.n, row.maximo) == (Decimal(25), 3, Decimal(125))
        refresh_rollups()


def test_backend_is_reported(capsys):
    call_command("storage_backend")
    assert capsys.readouterr().out.strip() == backend_name() == "timescaledb"


def test_the_refresh_windows_are_the_claimed_days_and_their_months():
    from tds_testing.readings import local
    from telemetria.storage.timescale import refresh_windows

    # unordered, one day twice
    days = [local(2026, 11, 1), local(2026, 10, 30), local(2026, 10, 31), local(2026, 11, 5)]
    daily, monthly = refresh_windows([*days, local(2026, 11, 5)])
    assert daily == [
        (local(2026, 10, 30), local(2026, 11, 2)),
        (local(2026, 11, 5), local(2026, 11, 6)),
    ]
    assert monthly == [(local(2026, 10, 1), local(2026, 12, 1))]
    assert refresh_windows([local(2026, 1, 31), local(2026, 3, 1)])[1] == [
        (local(2026, 1, 1), local(2026, 2, 1)),
        (local(2026, 3, 1), local(2026, 4, 1)),
    ]

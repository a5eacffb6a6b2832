"""Storage maintenance by our own beat job on both back ends (issue 12, item 15): each
run is recorded, failures show on the admin's storage page; on TimescaleDB, retention
and compression do not depend on TimescaleDB's job scheduler."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tds_testing import factories
from telemetria import tasks
from telemetria.models import ExecucaoManutencao
from telemetria.storage import ReadingRow, insert_readings, is_timescale, partitions
from telemetria.storage.tables import READINGS

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client, django_user_model):
    client.force_login(
        django_user_model.objects.create_superuser(email="root@example.com", password="x")
    )
    return client


def storage_page(client) -> str:
    page = client.get("/admin/telemetria/backendarmazenamento/")
    assert page.status_code == 200
    return page.content.decode()


def test_each_run_is_recorded_and_shown(root_client):
    assert "ainda não executada" in storage_page(root_client)
    tasks.maintain_storage_task()
    run = ExecucaoManutencao.objects.get()
    assert run.ok
    assert run.job == "maintain_storage"
    assert "ok em" in storage_page(root_client)


def test_a_failure_is_recorded_and_shown_on_the_storage_page(root_client, monkeypatch):
    def failing(**kwargs):
        raise partitions.StorageMaintenanceError("compress_chunk(_hyper_1_1_chunk): disk full")

    monkeypatch.setattr(partitions, "maintain_partitions", failing)
    with pytest.raises(partitions.StorageMaintenanceError):
        tasks.maintain_storage_task()
    run = ExecucaoManutencao.objects.get()
    assert not run.ok
    assert "disk full" in run.detalhe
    page = storage_page(root_client)
    assert "FALHOU em" in page
    assert "disk full" in page


# -- TimescaleDB only ------------------------------------------------------------------
def _fetch(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@pytest.mark.timescale
def test_timescale_scheduler_policies_are_gone_and_our_job_drops_and_compresses(conta_a, settings):
    if not is_timescale():
        pytest.skip("TimescaleDB extension not available: the native back end is in use")
    jobs = _fetch(
        "SELECT proc_name FROM timescaledb_information.jobs WHERE hypertable_name = %s",
        [READINGS],
    )
    assert not {"policy_retention", "policy_compression"} & {j[0] for j in jobs}
    gw = factories.make_gateway(conta=conta_a, codigo="GW-TS")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    now = timezone.now()
    rows = [
        ReadingRow(
            now - dt.timedelta(days=days), conta_a.pk, gw.pk, d.pk, Decimal(days), "kWh", None
        )
        for days in (1, 10, 40)
    ]
    insert_readings(rows)
    settings.TDS_RETENTION_DAYS = 30
    summary = tasks.maintain_storage_task()
    assert len(summary["chunks_dropped"]) == 1  # the 40-day-old chunk
    assert len(summary["chunks_compressed"]) >= 1  # the 10-day-old one
    left = _fetch(f"SELECT valor FROM {READINGS} WHERE dispositivo_id = %s ORDER BY time", [d.pk])
    assert [v for (v,) in left] == [Decimal(10), Decimal(1)]

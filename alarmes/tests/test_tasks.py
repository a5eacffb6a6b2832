"""The window job: scheduled by beat, idempotent, skipped while another run holds the lock."""

from django.db import connections

from alarmes.models import Alarme
from alarmes.tasks import evaluate_windows
from dispositivos.models import Gateway
from prj_tds_new.celery import app
from telemetria.storage.locks import lock_key


def test_beat_schedules_the_window_job():
    entries = {e["task"] for e in app.conf.beat_schedule.values()}
    assert "alarmes.evaluate_windows" in entries


def test_window_job_opens_one_alarm_however_often_it_runs(gw, rule):
    regra = rule(tipo="gateway_offline", gateway=gw, severidade="alto")
    Gateway.objects.filter(pk=gw.pk).update(is_online=False)
    for _ in range(3):
        evaluate_windows.apply()
    assert Alarme.objects.filter(regra=regra, estado="ativo").count() == 1


def test_window_job_skips_while_another_run_holds_the_lock(gw, rule):
    rule(tipo="gateway_offline", gateway=gw)
    Gateway.objects.filter(pk=gw.pk).update(is_online=False)
    other = connections.create_connection("default")  # another worker's session
    key = lock_key("alarmes.evaluate_windows")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [key])
        assert evaluate_windows.apply().result is None
        assert not Alarme.objects.exists()
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        other.close()
    assert evaluate_windows.apply().result["gateway_offline"] == 1

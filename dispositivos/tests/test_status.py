"""Offline detection: the beat job takes silent gateways offline and pushes it live."""

import datetime as dt
import json

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from django_scopes import scope

from dispositivos.models import Gateway
from dispositivos.services import gateways_mark_offline
from dispositivos.tasks import gateways_check_offline
from tds_core.live import live_channel
from tds_testing import factories


def _gateway(conta, *, seconds_ago, intervalo=60, online=True):
    gw = factories.make_gateway(conta=conta, intervalo_envio_segundos=intervalo)
    last_seen = None if seconds_ago is None else timezone.now() - dt.timedelta(seconds=seconds_ago)
    Gateway.objects.filter(pk=gw.pk).update(is_online=online, last_seen=last_seen)
    return gw


@pytest.fixture
def live_events():
    """Collects the live events published on given accounts' channels."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()

    def subscribe(*contas):
        pubsub.subscribe(*[live_channel(c.pk) for c in contas])
        for _ in contas:
            pubsub.get_message(timeout=1)  # subscribe confirmations

    def collect():
        events = []
        while (msg := pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)) is not None:
            events.append((msg["channel"].decode(), json.loads(msg["data"])))
        return events

    yield subscribe, collect
    pubsub.close()
    client.close()


def test_silent_gateway_goes_offline_and_is_pushed_to_its_account_only(
    conta_a, conta_b, live_events, django_capture_on_commit_callbacks
):
    subscribe, collect = live_events
    subscribe(conta_a, conta_b)
    silent = _gateway(conta_a, seconds_ago=200)  # 3 × 60 s = 180 s < 200 s
    recent = _gateway(conta_a, seconds_ago=100)
    slow = _gateway(conta_a, seconds_ago=200, intervalo=300)  # 3 × 300 s not reached
    never = _gateway(conta_a, seconds_ago=None)

    with django_capture_on_commit_callbacks(execute=True):
        changed = gateways_mark_offline()

    assert sorted(changed) == sorted([silent.pk, never.pk])
    states = dict(Gateway.objects.values_list("pk", "is_online"))
    assert states[silent.pk] is False
    assert states[never.pk] is False
    assert states[recent.pk] is True
    assert states[slow.pk] is True

    events = collect()
    assert {e["gateway_id"] for _, e in events} == {silent.pk, never.pk}
    assert all(ch == live_channel(conta_a.pk) for ch, _ in events)
    by_id = {e["gateway_id"]: e for _, e in events}
    assert by_id[silent.pk]["type"] == "gateway_status"
    assert by_id[silent.pk]["is_online"] is False
    assert by_id[silent.pk]["last_seen"].startswith(
        Gateway.objects.get(pk=silent.pk).last_seen.isoformat()[:19]
    )


def test_multiple_comes_from_settings(conta_a, settings):
    settings.TDS_OFFLINE_AFTER_INTERVALS = 5
    gw = _gateway(conta_a, seconds_ago=250)  # 5 × 60 s = 300 s not reached
    assert gateways_mark_offline() == []
    settings.TDS_OFFLINE_AFTER_INTERVALS = 4  # 240 s < 250 s
    assert gateways_mark_offline() == [gw.pk]


def test_offline_gateway_is_not_reported_again(conta_a):
    _gateway(conta_a, seconds_ago=1000, online=False)
    assert gateways_mark_offline() == []


def test_task_runs_unscoped_across_accounts(conta_a, conta_b):
    a = _gateway(conta_a, seconds_ago=500)
    b = _gateway(conta_b, seconds_ago=500)
    with scope(conta=[]):  # like a worker process: scopes on, no account
        assert gateways_check_offline() == 2
    assert not Gateway.objects.filter(pk__in=[a.pk, b.pk], is_online=True).exists()


def test_beat_schedule_has_the_job():
    from prj_tds_new.celery import app

    entries = [e["task"] for e in app.conf.beat_schedule.values()]
    assert "dispositivos.gateways_check_offline" in entries

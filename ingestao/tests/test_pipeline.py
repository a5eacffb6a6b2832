"""The pipeline's post-commit hook point: what the alarm engine and other post-commit work
receive, only after the batch's transaction has committed."""

import datetime as dt
from decimal import Decimal

import pytest

from ingestao.pipeline import register_committed_hook, unregister_committed_hook
from telemetria.models import LeituraDispositivo

from .helpers import payload, received, telemetry_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook():
    calls = []

    def record(committed):
        calls.append((committed, LeituraDispositivo.objects.count()))

    register_committed_hook(record)
    yield calls
    unregister_committed_hook(record)


def test_hook_gets_the_committed_rows_per_account_after_commit(
    worker, planta, hook, django_capture_on_commit_callbacks
):
    gw, (d1, d2, _d3) = planta["gateway"], planta["devices"]
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    data = payload(
        gw.mac,
        now,
        [{"dispositivo_codigo": "D01", "valor": 3.5}, {"dispositivo_codigo": "D02", "raw": 10}],
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        worker.consume_batch([received(telemetry_topic(gw.mac), data)])
    assert hook == []  # nothing before the commit
    for callback in callbacks:
        callback()
    ((committed, stored_when_called),) = hook
    assert stored_when_called == 2
    rows = committed.rows_by_conta()
    assert list(rows) == [gw.conta_id]
    assert {(r.dispositivo_id, r.valor, r.time) for r in rows[gw.conta_id]} == {
        (d1.pk, Decimal("3.5"), now),
        (d2.pk, Decimal("0.10"), now),
    }
    assert [(c.gateway_id, c.is_online) for c in committed.status_changes] == [(gw.pk, True)]


def test_a_failing_hook_does_not_undo_or_repeat_the_batch(
    worker, planta, hook, django_capture_on_commit_callbacks
):
    def broken(committed):
        raise RuntimeError("boom")

    register_committed_hook(broken)
    try:
        gw = planta["gateway"]
        now = dt.datetime.now(tz=dt.UTC)
        data = payload(gw.mac, now, [{"dispositivo_codigo": "D01", "valor": 1}])
        with django_capture_on_commit_callbacks(execute=True):
            result = worker.consume_batch([received(telemetry_topic(gw.mac), data)])
    finally:
        unregister_committed_hook(broken)
    assert result.inserted == 1
    assert LeituraDispositivo.objects.filter(gateway=gw).count() == 1
    assert len(hook) == 1  # the other hook ran as usual


@pytest.fixture
def truncate_readings():
    from tds_testing.readings import truncate_storage

    yield
    truncate_storage()


class AckSpy:
    def __init__(self, calls):
        self.calls = calls

    def ack(self, batch):
        self.calls.append(("ack", len(batch)))


@pytest.mark.django_db(transaction=True)
def test_a_hook_failing_on_a_database_error_runs_again_before_the_ack(
    worker, planta, truncate_readings
):
    """An alarm evaluation cut by a database error is not lost: the hook runs again (with
    backoff) and the batch is acked only after it succeeded."""
    from django.db import OperationalError

    calls = []

    def flaky(committed):
        calls.append(("hook", sum(len(r) for r in committed.readings.values())))
        if len([c for c in calls if c[0] == "hook"]) <= 2:
            raise OperationalError("deadlock detected")

    pipeline = worker.pipeline
    pipeline.transport = AckSpy(calls)
    register_committed_hook(flaky)
    try:
        gw = planta["gateway"]
        data = payload(
            gw.mac, dt.datetime.now(tz=dt.UTC), [{"dispositivo_codigo": "D01", "valor": 1}]
        )
        assert pipeline._process([received(telemetry_topic(gw.mac), data)]) is True
    finally:
        unregister_committed_hook(flaky)
    assert calls == [("hook", 1), ("hook", 1), ("hook", 1), ("ack", 1)]
    # This gateway's readings only: transactional tests before this one may leave rows.
    assert LeituraDispositivo.objects.filter(gateway=gw).count() == 1


@pytest.mark.django_db(transaction=True)
def test_stopping_while_a_hook_fails_leaves_the_batch_unacked(worker, planta, truncate_readings):
    """The consumer stops during a database outage that cuts a hook: no ack, the broker
    redelivers the batch (its readings are absorbed by the unique key, the hook runs again)."""
    from django.db import OperationalError

    calls = []

    def down(committed):
        calls.append("hook")
        raise OperationalError("server closed the connection")

    pipeline = worker.pipeline
    pipeline.transport = AckSpy(calls)
    pipeline._stopping.set()
    register_committed_hook(down)
    try:
        gw = planta["gateway"]
        data = payload(
            gw.mac, dt.datetime.now(tz=dt.UTC), [{"dispositivo_codigo": "D01", "valor": 1}]
        )
        assert (
            pipeline._process([received(telemetry_topic(gw.mac), data)], give_up_after=0.5) is False
        )
    finally:
        unregister_committed_hook(down)
    assert "ack" not in [c if isinstance(c, str) else c[0] for c in calls]
    assert calls.count("hook") >= 2
    assert LeituraDispositivo.objects.filter(gateway=gw).count() == 1

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
    assert LeituraDispositivo.objects.count() == 1
    assert len(hook) == 1  # the other hook ran as usual

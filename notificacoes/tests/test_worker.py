"""At least once, never twice confirmed, with real processes: a Celery worker (and its beat)
subprocess on a private Redis, killed with -9 between the channel's acceptance and the mark;
the Redis taken away for a minute while alarms fire."""

import os
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notificacoes import services
from notificacoes.entrega import reivindicar_envios
from notificacoes.models import Envio, EstadoEnvio, Notificacao, ResultadoTentativa
from prj_tds_new.celery import app
from tds_testing.celery_worker import CeleryWorker, celery_broker
from tds_testing.servers import PrivateRedis
from tds_testing.waiting import wait_for

from .helpers import fire, make_regra, webhook_target

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CLAIM_SECONDS = 3
OUTAGE_SECONDS = float(os.environ.get("TDS_TEST_REDIS_OUTAGE_SECONDS", "60"))


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def redis_broker(settings):
    """A private Redis as the Celery broker of this test process and of the worker."""
    redis = PrivateRedis().start()
    settings.TDS_NOTIFY_ENQUEUE = True
    settings.TDS_NOTIFY_QUEUE = "celery"
    try:
        with celery_broker(app, redis.url):
            yield redis
    finally:
        redis.stop()


@pytest.fixture
def make_worker(redis_broker, smtp):
    workers = []

    def start(supervise=False):
        worker = CeleryWorker(
            supervise=supervise,
            broker_url=redis_broker.url,
            database_url=_database_url(),
            env={
                "TDS_NOTIFY_SWEEP_SECONDS": "1",
                "TDS_NOTIFY_CLAIM_SECONDS": str(CLAIM_SECONDS),
                "TDS_NOTIFY_GROUP_SECONDS": "0.2",
                "TDS_NOTIFY_RETRY_BASE_SECONDS": "0.5",
                "TDS_NOTIFY_ENQUEUE": "1",
                "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp.port),
            },
        ).start()
        workers.append(worker)
        return worker

    yield start
    for w in workers:
        w.stop()


def _all_sent(n):
    return lambda: Envio.objects.filter(estado=EstadoEnvio.ENVIADA).count() == n


def _nothing_to_send_again(receiver, freezer, worker) -> list[dict]:
    """Proves, without waiting for the clock, that what is marked sent is never sent
    again: (1) a claim made as if every lease had run out (the sweep's view once the
    claims expire) finds nothing; (2) the running worker delivers a marker alarm fired
    now, so it has run its delivery (which claims every due message, oldest first) after
    the marks. Returns the receiver's entries before the marker."""
    before = receiver.entries()
    later = timezone.now() + timedelta(seconds=CLAIM_SECONDS + 1)
    assert reivindicar_envios(now=later) == []
    sent = Envio.objects.filter(estado=EstadoEnvio.ENVIADA).count()
    fire(make_regra(freezer, nome="Marcador"))
    wait_for(
        _all_sent(sent + 1),
        timeout=60,
        what="the marker delivered",
        log=lambda: worker.output()[-3000:],
    )
    after = receiver.wait_for(lambda e: len(e) >= len(before) + 1, timeout=30)
    assert after[: len(before)] == before
    (marker,) = after[len(before) :]  # the marker, and nothing sent again
    assert "Marcador" in str(marker)
    return before


@pytest.mark.parametrize("channel", ["webhook", "smtp"])
def test_kill_9_between_acceptance_and_mark_resends_same_key_once(
    channel, conta_a, freezer, webhook, smtp, admin_a, make_worker, request
):
    receiver = {"webhook": webhook, "smtp": smtp}[channel]
    if channel == "webhook":
        webhook_target(conta_a, webhook.url)
    else:
        services.destino_create(conta=conta_a, nome="Zelador", tipo="membro", membro=admin_a)
    worker = make_worker()
    receiver.hold()  # the receiver records the message, then holds its answer
    fire(make_regra(freezer, nome="Primeiro"))
    receiver.wait_for(lambda e: len(e) == 1, timeout=60)
    envio = Envio.objects.get()
    assert envio.estado == EstadoEnvio.PENDENTE  # accepted by the receiver, not yet marked
    worker.kill9()
    receiver.hold(False)

    # While no worker runs, another alarm fires: it waits in the outbox.
    fire(make_regra(freezer, nome="Segundo"))
    worker = make_worker()
    wait_for(
        _all_sent(2),
        timeout=60,
        what="both messages marked sent",
        log=lambda: worker.output()[-3000:],
    )

    got = receiver.entries()
    keys = [e["key"] for e in got]
    first_key = str(envio.chave_idempotencia)
    # The interrupted message went out twice with the same key; the receiver can drop the
    # repeat by it; the other message went out once. Nothing is lost.
    assert keys.count(first_key) == 2
    assert len(set(keys)) == 2
    assert len(keys) == 3
    if channel == "webhook":
        assert [e["duplicate"] for e in got if e["key"] == first_key] == [False, True]
        assert all(e["valid"] for e in got)
    envio.refresh_from_db()
    assert [t.resultado for t in envio.tentativas_log.all()] == [
        ResultadoTentativa.INTERROMPIDA,
        ResultadoTentativa.SUCESSO,
    ]
    # Marked sent: nothing is sent again, whatever runs later.
    assert len(_nothing_to_send_again(receiver, freezer, worker)) == 3


def test_redis_away_for_a_minute_loses_and_repeats_nothing(
    conta_a, freezer, webhook, redis_broker, make_worker
):
    webhook_target(conta_a, webhook.url)
    worker = make_worker(supervise=True)  # restarted if it exits, as under systemd
    fire(make_regra(freezer, nome="Antes"))
    wait_for(
        _all_sent(1), timeout=60, what="the first message", log=lambda: worker.output()[-3000:]
    )

    redis_broker.kill()
    started = time.monotonic()
    during = [make_regra(freezer, nome=f"Durante {i}") for i in range(5)]
    for r in during:
        fire(r)  # the transition commits; queueing the delivery fails and is logged
    assert Notificacao.objects.count() == 6
    while time.monotonic() - started < OUTAGE_SECONDS:
        time.sleep(0.5)
    redis_broker.start()

    wait_for(
        lambda: Notificacao.objects.filter(envio__estado=EstadoEnvio.ENVIADA).count() == 6,
        timeout=120,
        what="every notification delivered",
        log=lambda: worker.output()[-3000:],
    )
    got = _nothing_to_send_again(webhook, freezer, worker)
    regras = sorted(ev["regra"] for e in got for ev in e["payload"]["eventos"])
    assert regras == sorted(["Antes", *(f"Durante {i}" for i in range(5))])
    assert not any(e["duplicate"] for e in got)

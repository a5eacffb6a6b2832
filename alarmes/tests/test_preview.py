"""The Prévia reads only the readings that can change a rule's state; it must give the
same alarms as every reading fed to the same logic (differential), for each raw kind."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alarmes import logic
from alarmes.models import RegraAlarme
from alarmes.preview import regra_preview
from tds_testing.alarms import ingest
from telemetria.storage import consumption_steps

NOW = None


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def _series(dev, now, values, every=5):
    start = now - timedelta(minutes=every * len(values))
    pts = [(start + timedelta(minutes=every * i), v) for i, v in enumerate(values)]
    ingest(dev, pts)
    return pts


def _full(regra, dev, now, rate=False):
    steps = consumption_steps(
        conta_id=dev.conta_id,
        dispositivo_ids=[dev.pk],
        start=now - timedelta(days=30),
        end=now,
    )
    xs = logic.rate_samples(steps) if rate else [(s.time, s.valor) for s in steps]
    events = logic.limit_samples(regra, xs, logic.LimitState())
    return [(e.inicio, e.em) for e in events if isinstance(e, logic.Fire)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_limit_preview_equals_every_reading(conta_a, temp, now, seed):
    rnd = random.Random(seed)
    values = [round(rnd.uniform(5, 15), 1) for _ in range(600)]
    _series(temp, now, values)
    regra = RegraAlarme(
        conta=conta_a, nome="x", tipo="limite", dispositivo=temp,
        limite_superior=Decimal(12), limite_inferior=Decimal(6), histerese=Decimal("1.5"),
        duracao_minutos=10,
    )  # fmt: skip
    preview = regra_preview(regra=regra, now=now + timedelta(minutes=1))
    full = _full(regra, temp, now + timedelta(minutes=1))
    assert preview.total == len(full) > 0
    assert [(a.inicio, a.disparo) for a in preview.alarms] == full[-len(preview.alarms) :]


def test_rate_preview_equals_every_reading(conta_a, energia, now):
    rnd = random.Random(7)
    v, values = 1000.0, []
    for _ in range(500):
        v += rnd.choice([0.1, 0.2, 3.0])
        values.append(round(v, 2))
    _series(energia, now, values)
    regra = RegraAlarme(
        conta=conta_a, nome="x", tipo="limite", grandeza="taxa", dispositivo=energia,
        limite_superior=Decimal(20), histerese=Decimal(5),
    )  # fmt: skip
    preview = regra_preview(regra=regra, now=now + timedelta(minutes=1))
    full = _full(regra, energia, now + timedelta(minutes=1), rate=True)
    assert preview.total == len(full) > 0


def test_no_data_and_counter_previews(conta_a, energia, now):
    pts = _series(energia, now, [100, 101, 102, 90, 91, 3, 4])  # 102 -> 90 back; 91 -> 3 reset
    # a 40-minute silence after the 5th reading (gateway interval 60 s x 3 = 3 min)
    ingest(energia, [(pts[-1][0] + timedelta(minutes=40), 5)])
    sem = RegraAlarme(conta=conta_a, nome="s", tipo="sem_dados", dispositivo=energia)
    p = regra_preview(regra=sem, now=pts[-1][0] + timedelta(minutes=41))
    assert p.total >= 1
    assert any(a.fim == pts[-1][0] + timedelta(minutes=40) for a in p.alarms)
    cont = RegraAlarme(
        conta=conta_a, nome="c", tipo="anomalia", modo_anomalia="contador", dispositivo=energia,
        tolerancia_reset=Decimal(10),
    )  # fmt: skip
    p = regra_preview(regra=cont, now=now + timedelta(hours=1))
    assert [(a.disparo, a.valor) for a in p.alarms] == [(pts[3][0], Decimal(90))]

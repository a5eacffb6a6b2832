"""The consumer's cheap path (engine._settled): a device whose batch cannot change any of
its rules is settled on plain lists, with one round trip for the whole batch; it must
give exactly the alarms and hour counts of the exact path (Steps, rule by rule)."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alarmes import engine, services
from alarmes.models import Alarme
from tds_testing import factories
from tds_testing.alarms import local, row
from telemetria.storage import insert_readings


def D(v) -> Decimal:
    return Decimal(str(v))


def _rules(rule, disp, taxa_inferior=Decimal(3)):
    """Every reading-driven kind on one cumulative meter, limits that the walk below
    crosses now and then."""
    return [
        rule(nome="valor", dispositivo=disp, limite_superior=D(1150), histerese=D(1)),
        rule(
            nome="taxa",
            grandeza="taxa",
            dispositivo=disp,
            limite_superior=D(100),
            limite_inferior=taxa_inferior,
            histerese=D(10),
        ),
        rule(nome="hora", tipo="consumo", periodo="hora", dispositivo=disp, limite_superior=D(22)),
        rule(nome="contador", tipo="anomalia", modo_anomalia="contador", dispositivo=disp),
    ]


def _walk(seed: int):
    """Batches of readings of a cumulative meter over a few hours: steps of 0 to 3 units
    every 1 to 9 minutes (rates from 0 to 180/h), a step back now and then, and now and
    then a batch delivered again."""
    rnd = random.Random(seed)
    t, v = local(2026, 3, 10, 8, 37), D(1000)
    batches = []
    for _ in range(60):
        batch = []
        for _ in range(rnd.randint(1, 4)):
            t += timedelta(minutes=rnd.randint(1, 9), seconds=rnd.choice([0, 0, 17]))
            v += D(rnd.choice([0, 0.5, 1, 1.5, 2, 3])) if rnd.random() > 0.04 else D(-5)
            batch.append((t, v))
        batches.append(batch)
        if rnd.random() < 0.08:
            batches.append(batches[rnd.randrange(len(batches))])  # redelivered
    return batches


def _run(disp, batches):
    cache = engine.RuleCache()
    memo = []
    for points in batches:
        rows = [row(disp, t, v) for t, v in points]
        insert_readings(rows)
        engine.evaluate_committed_readings(rows, cache=cache)
        # a person closes a counter anomaly (the engine never does)
        for a in Alarme.objects.filter(dispositivo=disp, regra__nome="contador", estado="ativo"):
            services.alarm_clear(alarme=a, em=points[-1][0], manual=True)
        h = cache.hours.get(disp.pk)
        memo.append(None if h is None else (h.hour, h.last_time, h.last_valor, h.consumo))
    alarms = [
        (a.regra.nome, a.estado, a.inicio, a.fim, a.valor)
        for a in Alarme.objects.filter(dispositivo=disp).select_related("regra")
    ]
    return sorted(alarms, key=str), memo


@pytest.mark.parametrize("taxa_inferior", [D(3), None], ids=["rate-band", "rate-ceiling"])
def test_the_settled_path_gives_the_alarms_and_hour_counts_of_the_exact_path(
    gw, rule, monkeypatch, taxa_inferior
):
    """With a rate ceiling only, the cheap path first bounds the batch's rates (largest
    step over shortest gap): a bound over the limit must still settle a batch whose
    exact rates stay under it, and never settle one past it."""
    fast = factories.make_dispositivo(gateway=gw, codigo="E1", tipo="ENERGIA")
    exact = factories.make_dispositivo(gateway=gw, codigo="E2", tipo="ENERGIA")
    _rules(rule, fast, taxa_inferior)
    _rules(rule, exact, taxa_inferior)
    settled, kinds, bounds = [], set(), []
    real, real_bound = engine._settled, engine._rate_bound

    def counting(*args):
        settled.append(real(*args))
        return settled[-1]

    def bounding(*args):
        bounds.append(real_bound(*args))
        return bounds[-1]

    for seed in (1, 2, 3):
        with monkeypatch.context() as m:
            m.setattr(engine, "_settled", counting)
            m.setattr(engine, "_rate_bound", bounding)
            got = _run(fast, _walk(seed))
        with monkeypatch.context() as m:
            m.setattr(engine, "_settled", lambda *args: False)
            want = _run(exact, _walk(seed))
        assert got == want
        kinds |= {a[0] for a in want[0]}
        Alarme.objects.all().delete()
        with connection.cursor() as cur:
            cur.execute("DELETE FROM tds_new_leitura_dispositivo")
    # the walks exercised both paths
    assert settled.count(True) > 20
    assert settled.count(False) > 20
    assert kinds == {"valor", "taxa", "hora", "contador"}
    if taxa_inferior is None:  # the bound decided some batches, the exact rates others
        assert sum(b <= 100 for b in bounds) > 10
        assert sum(b > 100 for b in bounds) > 10


def test_a_quiet_batch_is_one_round_trip_whatever_its_rules(gw, rule):
    disp = factories.make_dispositivo(gateway=gw, codigo="E1", tipo="ENERGIA")
    regras = _rules(rule, disp)
    for r in regras:  # limits no reading of the batch below reaches
        r.limite_superior, r.limite_inferior = D(10**6), None
        r.save()
    cache = engine.RuleCache()
    t = local(2026, 3, 10, 9, 0)
    queries = []
    for i in range(4):
        rows = [row(disp, t + timedelta(minutes=5 * i + k), 1000 + 5 * i + k) for k in range(5)]
        insert_readings(rows)
        with CaptureQueriesContext(connection) as q:
            engine.evaluate_committed_readings(rows, cache=cache)
        queries.append(len(q))
    # the first batch loads the rules and reads its hour; then alarms, pending states and
    # each device's reading before the batch in one query
    assert queries[2:] == [1, 1]
    assert cache.hours[disp.pk].consumo == D(19)  # 1000 -> 1019 in 09:xx
    assert not Alarme.objects.exists()


def test_a_starting_consumer_has_the_rule_sets_before_its_first_batch(
    gw, rule, conta_b, monkeypatch
):
    """The consumer's warm-up loads every account's reading-driven rules (several rules
    per account: one set each), so its first batch spends nothing loading them."""
    disp = factories.make_dispositivo(gateway=gw, codigo="E1", tipo="ENERGIA")
    for r in _rules(rule, disp):
        r.limite_superior, r.limite_inferior = D(10**6), None
        r.save()
    gw_b = factories.make_gateway(conta=conta_b, codigo="GW-B")
    services.regra_create(conta=conta_b, nome="offline", tipo="gateway_offline", gateway=gw_b)
    cache = engine.RuleCache()
    monkeypatch.setattr(engine, "_cache", cache)
    loads = []
    real_load = engine.load_rule_set
    monkeypatch.setattr(engine, "load_rule_set", lambda *a: loads.append(a[0]) or real_load(*a))

    engine.warm_up()

    assert loads == [gw.conta_id]  # conta_b has only a window rule: nothing to evaluate
    rows = [row(disp, local(2026, 3, 10, 9, k), 1000 + k) for k in range(5)]
    insert_readings(rows)
    with CaptureQueriesContext(connection) as q:
        engine.evaluate_committed_readings(rows)
    assert loads == [gw.conta_id]
    assert len(q) <= 2  # alarms, pending states and readings before; the hour's count


def _run_many(conta, prefix, walks):
    """Each walk on a meter of its own, eight to a gateway; every batch holds all."""
    gateways = [
        factories.make_gateway(conta=conta, codigo=f"GW-{prefix}{g}")
        for g in range(len(walks) // 8)
    ]
    devices = [
        factories.make_dispositivo(
            gateway=gateways[i // 8], codigo=f"{prefix}{i:02d}", tipo="ENERGIA"
        )
        for i in range(len(walks))
    ]
    cache = engine.RuleCache()
    for i in range(len(walks[0])):
        rows = [row(d, t, v) for d, walk in zip(devices, walks, strict=True) for t, v in walk[i]]
        insert_readings(rows)
        engine.evaluate_committed_readings(rows, cache=cache)
    return sorted(
        (a.dispositivo.codigo[1:], a.regra.nome, a.estado, a.inicio, a.fim, a.valor)
        for a in Alarme.objects.filter(dispositivo__in=devices).select_related(
            "regra", "dispositivo"
        )
    )


def test_the_accounts_recent_readings_give_the_alarms_of_a_probe_per_device(
    conta_a, rule, monkeypatch
):
    """A batch of many devices reads the readings before it from one range of the
    account's recent readings (engine._recent_window) instead of a probe per device:
    the same alarms, on walks with steps back and batches delivered again."""
    rule(nome="taxa", grandeza="taxa", tipo_dispositivo="ENERGIA", limite_superior=D(100))
    rule(nome="contador", tipo="anomalia", modo_anomalia="contador", tipo_dispositivo="ENERGIA")
    rule(nome="hora", tipo="consumo", periodo="hora", tipo_dispositivo="ENERGIA",
         limite_superior=D(22))  # fmt: skip
    walks = [_walk(seed) for seed in range(64)]
    n = min(len(w) for w in walks)
    walks = [w[:n] for w in walks]
    windows = []
    real = engine._recent_window

    def recording(*args):
        windows.append(real(*args))
        return windows[-1]

    with monkeypatch.context() as m:
        m.setattr(engine, "_recent_window", recording)
        got = _run_many(conta_a, "R", walks)
    with monkeypatch.context() as m:
        m.setattr(engine, "_recent_window", lambda *args: None)
        want = _run_many(conta_a, "P", walks)
    assert got == want
    assert {a[1] for a in want} == {"taxa", "contador", "hora"}
    assert sum(w is not None for w in windows) > n // 2  # the range answered most batches

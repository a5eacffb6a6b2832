"""Every rule kind on hand-computed data, wall clock in America/Sao_Paulo (UTC-3)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alarmes import engine
from alarmes.models import Alarme, TransicaoAlarme
from dispositivos.models import Gateway
from tds_testing.alarms import alarms, ingest, local


def D(v) -> Decimal:
    return Decimal(str(v))


def test_limit_with_hysteresis_fires_once_and_clears_once(temp, rule):
    regra = rule(dispositivo=temp, limite_superior=D(10), histerese=D(1))
    t = local(2026, 3, 10, 14, 0)
    values = [9, 10.5, 9.8, 10.2, 9.5, 10.1]  # oscillates around 10, never under 9
    ingest(temp, [(t + timedelta(minutes=i), v) for i, v in enumerate(values)])
    (a,) = alarms(regra)
    assert a.estado == "ativo"
    assert a.inicio == t + timedelta(minutes=1)
    assert a.valor == D("10.5")
    # A later batch: 9.2 is still inside the band; 8.9 is past it: cleared there.
    ingest(temp, [(t + timedelta(minutes=6), 9.2), (t + timedelta(minutes=7), 8.9)])
    (a,) = alarms(regra)
    assert a.estado == "encerrado"
    assert a.fim == t + timedelta(minutes=7)
    assert [tr.tipo for tr in a.transicoes.all()] == ["disparo", "encerramento"]


def test_lower_limit(temp, rule):
    regra = rule(dispositivo=temp, limite_inferior=D(2), histerese=D("0.5"))
    t = local(2026, 3, 10, 14, 0)
    ingest(temp, [(t, 3), (t + timedelta(minutes=1), 1.5), (t + timedelta(minutes=2), 2.4)])
    assert [a.estado for a in alarms(regra)] == ["ativo"]
    ingest(temp, [(t + timedelta(minutes=3), 2.6)])
    assert [a.estado for a in alarms(regra)] == ["encerrado"]


def test_duration_must_hold_before_firing(temp, rule):
    regra = rule(dispositivo=temp, limite_superior=D(10), duracao_minutos=10)
    t = local(2026, 3, 10, 23, 50)  # crosses local midnight
    # 11 at :50 and :55, then 9 at :57 resets the wait; 11 from 00:00, 00:05, 00:10.
    ingest(temp, [(t, 11), (t + timedelta(minutes=5), 11), (t + timedelta(minutes=7), 9)])
    ingest(temp, [(t + timedelta(minutes=10), 11), (t + timedelta(minutes=15), 11)])
    assert alarms(regra) == []
    ingest(temp, [(t + timedelta(minutes=20), 11.5)])
    (a,) = alarms(regra)
    assert a.inicio == local(2026, 3, 11, 0, 0)  # since when it held
    fired = a.transicoes.get(tipo="disparo")
    assert fired.em == local(2026, 3, 11, 0, 10)  # when it had held for 10 minutes
    assert a.valor == D("11.5")


def test_rate_per_hour_from_a_cumulative_meter(energia, rule):
    regra = rule(dispositivo=energia, grandeza="taxa", limite_superior=D(20), histerese=D(5))
    t = local(2026, 3, 10, 8, 0)
    # 1000 -> 1005 in 30 min = 10/h; 1005 -> 1020 in 30 min = 30/h: fires; 1020 -> 1027
    # in 30 min = 14/h (still >= 15? no: 14 < 15) clears.
    ingest(energia, [(t, 1000), (t + timedelta(minutes=30), 1005)])
    assert alarms(regra) == []
    ingest(energia, [(t + timedelta(minutes=60), 1020)])
    (a,) = alarms(regra)
    assert a.valor == D(30)
    ingest(energia, [(t + timedelta(minutes=90), 1027)])
    (a,) = alarms(regra)
    assert a.estado == "encerrado"


def test_consumption_in_the_hour(energia, rule):
    regra = rule(tipo="consumo", periodo="hora", dispositivo=energia, limite_superior=D(50))
    t = local(2026, 3, 10, 9, 0)
    # 09:xx local: 100 -> 130 -> 160 = 60 in the hour (the step from 08:50 counts too)
    ingest(energia, [(t - timedelta(minutes=10), 100), (t + timedelta(minutes=20), 130)])
    assert alarms(regra) == []
    ingest(energia, [(t + timedelta(minutes=40), 160)])
    (a,) = alarms(regra)
    assert (a.inicio, a.valor) == (t, D(60))
    # 10:xx: +10 only; once the hour is over (a reading in 11:xx) it clears at 11:00.
    ingest(energia, [(t + timedelta(minutes=70), 170)])
    assert alarms(regra)[0].estado == "ativo"
    ingest(energia, [(t + timedelta(minutes=125), 172)])
    (a,) = alarms(regra)
    assert (a.estado, a.fim) == ("encerrado", local(2026, 3, 10, 11, 0))


def test_counter_reset_is_normal_but_stepping_back_is_an_anomaly(energia, rule):
    regra = rule(
        tipo="anomalia", modo_anomalia="contador", dispositivo=energia, tolerancia_reset=D(10)
    )
    t = local(2026, 3, 10, 9, 0)
    ingest(energia, [(t, 99990), (t + timedelta(minutes=1), 99998), (t + timedelta(minutes=2), 3)])
    assert alarms(regra) == []  # rolled over to about zero: a reset
    ingest(energia, [(t + timedelta(minutes=3), 50), (t + timedelta(minutes=4), 40)])
    (a,) = alarms(regra)
    assert (a.inicio, a.valor) == (t + timedelta(minutes=4), D(40))


def test_redelivered_and_late_readings_never_make_a_second_alarm(temp, rule):
    regra = rule(dispositivo=temp, limite_superior=D(10))
    t = local(2026, 3, 10, 14, 0)
    first = [(t, 12), (t + timedelta(minutes=1), 12)]
    ingest(temp, first)
    ingest(temp, [(t + timedelta(minutes=2), 5)])  # clears
    ingest(temp, first)  # redelivered batch
    ingest(temp, [(t - timedelta(minutes=5), 15)])  # a late reading from before
    assert [a.estado for a in alarms(regra)] == ["encerrado"]


def test_template_rule_with_exclusion(conta_a, gw, rule):
    from tds_testing import factories

    t1 = factories.make_dispositivo(gateway=gw, codigo="T1", tipo="TEMP")
    t2 = factories.make_dispositivo(gateway=gw, codigo="T2", tipo="TEMP")
    regra = rule(tipo_dispositivo="TEMP", limite_superior=D(5), exclusoes=[t2])
    t = local(2026, 3, 10, 14, 0)
    ingest(t1, [(t, 8)])
    ingest(t2, [(t, 8)])
    assert [a.dispositivo_id for a in alarms(regra)] == [t1.pk]


def _hourly(dev, start, hours, per_hour, base=1000.0, every=30):
    """Cumulative readings every `every` minutes consuming `per_hour` per hour."""
    pts, v = [], base
    for i in range(int(hours * 60 / every) + 1):
        pts.append((start + timedelta(minutes=i * every), v))
        v += per_hour * every / 60
    return pts


def test_leak_fires_at_the_end_of_the_night_and_clears_after_two_quiet_nights(agua, rule):
    regra = rule(tipo="vazamento", dispositivo=agua, vazao_minima=D("0.01"))
    # Night of 10 March: flow all night 00:00-05:00 local.
    ingest(agua, _hourly(agua, local(2026, 3, 9, 23, 0), 7, 0.05))
    assert engine.evaluate_leaks(local(2026, 3, 10, 4, 59)) == 0  # window not over
    assert engine.evaluate_leaks(local(2026, 3, 10, 5, 1)) == 1
    (a,) = alarms(regra)
    assert a.inicio == local(2026, 3, 10, 0, 0)
    assert a.transicoes.get().em == local(2026, 3, 10, 5, 0)  # fired at the window's end
    assert engine.evaluate_leaks(local(2026, 3, 10, 6, 0)) == 0  # same night: once
    # Night of 11 March: flow stops at 02:00 (one quiet night); 12 March: quiet.
    ingest(agua, _hourly(agua, local(2026, 3, 11, 0, 0), 2, 0.05, base=1005))
    ingest(agua, [(local(2026, 3, 11, 4, 0), 1005.1), (local(2026, 3, 11, 5, 0), 1005.1)])
    engine.evaluate_leaks(local(2026, 3, 11, 5, 30))
    assert alarms(regra)[0].estado == "ativo"
    ingest(agua, [(local(2026, 3, 12, 1, 0), 1005.1), (local(2026, 3, 12, 5, 0), 1005.1)])
    engine.evaluate_leaks(local(2026, 3, 12, 5, 30))
    (a,) = alarms(regra)
    assert (a.estado, a.fim) == ("encerrado", local(2026, 3, 12, 5, 0))


def test_leak_needs_flow_in_every_hour_of_the_window(agua, rule):
    regra = rule(tipo="vazamento", dispositivo=agua, vazao_minima=D("0.01"))
    pts = _hourly(agua, local(2026, 3, 9, 23, 0), 3, 0.05)  # flow until 02:00 only
    last = pts[-1][1]
    pts += [(local(2026, 3, 10, h, 30), last) for h in (2, 3, 4)]
    ingest(agua, pts)
    assert engine.evaluate_leaks(local(2026, 3, 10, 5, 1)) == 0
    assert alarms(regra) == []


def _days(dev, first, values, base=0.0):
    """One cumulative reading at 12:00 local of each day plus one at 23:59: day d consumes
    values[d] (the step between days is zero)."""
    pts, v = [], base
    for i, c in enumerate(values):
        day = first + timedelta(days=i)
        pts.append((local(day.year, day.month, day.day, 0, 1), v))
        v += c
        pts.append((local(day.year, day.month, day.day, 23, 59), v))
    return pts


def test_day_consumption_spike_vs_median(energia, rule):
    from datetime import date

    regra = rule(tipo="anomalia", modo_anomalia="mediana", dispositivo=energia, fator_mediana=D(3))
    # 28 days of 8..12 kWh (median 10), then 25 (< 3 x 10) and then 35 (> 30).
    history = [8, 9, 10, 11, 12, 10, 10] * 4
    ingest(energia, _days(energia, date(2026, 2, 1), [*history, 25, 35]))
    assert engine.evaluate_days(local(2026, 3, 2, 0, 10)) == 0  # 1 March: 25
    assert engine.evaluate_days(local(2026, 3, 3, 0, 10)) == 1  # 2 March: 35
    (a,) = alarms(regra)
    assert (a.inicio, a.valor) == (local(2026, 3, 2, 0, 0), D(35))
    assert engine.evaluate_days(local(2026, 3, 3, 1, 0)) == 0  # the same day only once


def test_day_consumption_limit(energia, rule):
    from datetime import date

    regra = rule(tipo="consumo", periodo="dia", dispositivo=energia, limite_superior=D(100))
    ingest(energia, _days(energia, date(2026, 3, 9), [90, 120, 50]))
    engine.evaluate_days(local(2026, 3, 10, 0, 5))
    assert alarms(regra) == []
    engine.evaluate_days(local(2026, 3, 11, 0, 5))
    assert [(a.estado, a.valor) for a in alarms(regra)] == [("ativo", D(120))]
    engine.evaluate_days(local(2026, 3, 12, 0, 5))
    assert [a.estado for a in alarms(regra)] == ["encerrado"]


def test_a_day_already_judged_costs_the_same_queries_for_one_device_or_five(gw, rule):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tds_testing import factories

    rule(tipo="consumo", periodo="dia", tipo_dispositivo="ENERGIA", limite_superior=D(100))

    def queries_of_a_run_after_the_day_was_judged():
        engine.evaluate_days(local(2026, 3, 11, 0, 5))
        with CaptureQueriesContext(connection) as q:
            assert engine.evaluate_days(local(2026, 3, 11, 0, 6)) == 0
        return len(q)

    factories.make_dispositivo(gateway=gw, codigo="E1", tipo="ENERGIA")
    one = queries_of_a_run_after_the_day_was_judged()
    for i in range(2, 6):
        factories.make_dispositivo(gateway=gw, codigo=f"E{i}", tipo="ENERGIA")
    assert queries_of_a_run_after_the_day_was_judged() == one


def test_a_silence_already_alarmed_costs_the_same_queries_for_one_device_or_five(gw, rule):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tds_testing import factories

    rule(tipo="sem_dados", tipo_dispositivo="TEMP", intervalos=3)
    now = local(2026, 3, 10, 12, 0)

    def queries_of_a_run_after_the_alarms_fired():
        engine.evaluate_no_data(now)
        with CaptureQueriesContext(connection) as q:
            assert engine.evaluate_no_data(now + timedelta(minutes=1)) == 0
        return len(q)

    factories.make_dispositivo(gateway=gw, codigo="T1", tipo="TEMP")
    one = queries_of_a_run_after_the_alarms_fired()
    for i in range(2, 6):
        factories.make_dispositivo(gateway=gw, codigo=f"T{i}", tipo="TEMP")
    assert queries_of_a_run_after_the_alarms_fired() == one


def test_no_data_after_n_intervals(temp, gw, rule):
    regra = rule(tipo="sem_dados", dispositivo=temp, intervalos=3)  # gateway: 60 s
    t = local(2026, 3, 10, 14, 0)
    ingest(temp, [(t, 20)])
    assert engine.evaluate_no_data(t + timedelta(minutes=2, seconds=59)) == 0
    assert engine.evaluate_no_data(t + timedelta(minutes=3, seconds=1)) == 1
    (a,) = alarms(regra)
    assert a.inicio == t + timedelta(minutes=3)
    assert engine.evaluate_no_data(t + timedelta(minutes=5)) == 0  # still one
    ingest(temp, [(t + timedelta(minutes=6), 20)])
    engine.evaluate_no_data(t + timedelta(minutes=6, seconds=10))
    (a,) = alarms(regra)
    assert (a.estado, a.fim) == ("encerrado", t + timedelta(minutes=6))


def test_gateway_offline_alarm_follows_the_status(gw, rule):
    regra = rule(tipo="gateway_offline", gateway=gw)
    Gateway.objects.filter(pk=gw.pk).update(is_online=False, last_seen=local(2026, 3, 10, 9, 0))
    assert engine.evaluate_gateways_offline() == 1
    assert engine.evaluate_gateways_offline() == 0
    (a,) = Alarme.objects.filter(regra=regra)
    assert (a.dispositivo_id, a.gateway_id, a.inicio) == (None, gw.pk, local(2026, 3, 10, 9, 0))
    Gateway.objects.filter(pk=gw.pk).update(is_online=True)
    engine.evaluate_gateways_offline()
    a.refresh_from_db()
    assert a.estado == "encerrado"


def test_disabled_rule_and_other_accounts_readings_do_nothing(temp, rule, conta_b):
    from tds_testing import factories

    regra = rule(dispositivo=temp, limite_superior=D(10), ativo=False)
    t = local(2026, 3, 10, 14, 0)
    ingest(temp, [(t, 50)])
    gw_b = factories.make_gateway(conta=conta_b)
    other = factories.make_dispositivo(gateway=gw_b, tipo="TEMP")
    ingest(other, [(t, 50)])
    assert alarms(regra) == []
    assert TransicaoAlarme.objects.count() == 0


@pytest.mark.parametrize("value", [10, "10.0001"])
def test_limit_boundary(temp, rule, value):
    regra = rule(dispositivo=temp, limite_superior=D(10))
    ingest(temp, [(local(2026, 3, 10, 14, 0), value)])
    assert len(alarms(regra)) == (0 if D(value) == 10 else 1)

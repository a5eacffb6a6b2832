"""Consumption alarms count a cumulative register's steps as billing does
(storage.sql.step_adjustment): a small backwards step counts zero, a rollover near the
register's maximum counts through it. Hand-computed, wall clock in America/Sao_Paulo.
The old rule counted a backwards step as a reset from zero (its whole new value)."""

from datetime import timedelta
from decimal import Decimal

from alarmes import engine
from alarmes.preview import regra_preview
from tds_testing.alarms import alarms, ingest, local, row
from telemetria.storage import HOUR, consumption_by_period, insert_readings


def D(v) -> Decimal:
    return Decimal(str(v))


def test_a_small_backwards_step_counts_zero_in_the_hour(energia, rule):
    regra = rule(tipo="consumo", periodo="hora", dispositivo=energia, limite_superior=D(50))
    t = local(2026, 3, 10, 9, 0)
    # 09:xx: 08:50 1000 -> 09:10 1040 (+40) -> 09:20 1035 (back 5: +0) -> 09:40 1045
    # (+10) = 50, not above 50. The old rule counted 1035 for the step back: 1085.
    pts = [(t - timedelta(minutes=10), 1000), (t + timedelta(minutes=10), 1040)]
    pts += [(t + timedelta(minutes=20), 1035), (t + timedelta(minutes=40), 1045)]
    ingest(energia, pts[:2])
    ingest(energia, pts[2:])
    assert alarms(regra) == []
    (hour,) = consumption_by_period(
        conta_id=energia.conta_id,
        dispositivo_ids=[energia.pk],
        start=t,
        end=t + timedelta(hours=1),
        period=HOUR,
    )
    assert (hour.bucket, hour.consumo) == (t, D(50))
    assert regra_preview(regra=regra, now=t + timedelta(hours=2)).total == 0
    # 10:xx: 1045 -> 1100 = 55 > 50: fires, in the engine and in the Prévia alike.
    ingest(energia, [(t + timedelta(minutes=70), 1100)])
    (a,) = alarms(regra)
    assert (a.inicio, a.valor) == (t + timedelta(hours=1), D(55))
    p = regra_preview(regra=regra, now=t + timedelta(hours=2))
    assert [(x.inicio, x.valor) for x in p.alarms] == [(t + timedelta(hours=1), D(55))]


def test_a_rollover_counts_through_the_register_maximum(energia, rule):
    energia.registro_maximo = 9999  # wraps at 10000 (factor 1)
    energia.save()
    regra = rule(tipo="consumo", periodo="hora", dispositivo=energia, limite_superior=D(20))
    t = local(2026, 3, 10, 9, 0)
    # 9990 -> 5 is a rollover: 10000 - 9990 + 5 = 15; 5 -> 12: +7; the hour: 22 > 20.
    ingest(energia, [(t, 9990), (t + timedelta(minutes=20), 5), (t + timedelta(minutes=40), 12)])
    (a,) = alarms(regra)
    assert a.valor == D(22)


def _night(start, values):
    """Readings every 30 minutes from `start` with the given values."""
    return [(start + timedelta(minutes=30 * i), v) for i, v in enumerate(values)]


def test_a_small_backwards_step_is_not_night_flow(agua, rule):
    regra = rule(tipo="vazamento", dispositivo=agua, vazao_minima=D("0.01"))
    # Night of 10 March, window 00:00-05:00: +0.05 every half hour, except that at 02:00
    # the register reads 0.05 less than at 01:30 and stays there until 02:30: hour 02
    # (its steps end at 02:00 and 02:30) consumes 0 + 0 = 0, not above 0.01: no leak.
    # The old rule counted the 02:00 step as 1000.25 from zero: every hour "flowed".
    # 22:30, 23:00, 23:30, 00:00, 00:30, 01:00, 01:30 | 02:00, 02:30 | 03:00 ... 05:30
    values = [1000.00, 1000.05, 1000.10, 1000.15, 1000.20, 1000.25, 1000.30]
    values += [1000.25, 1000.25, 1000.30, 1000.35, 1000.40, 1000.45, 1000.50, 1000.55]
    ingest(agua, _night(local(2026, 3, 9, 22, 30), values))  # 22:30 .. 05:30
    end = local(2026, 3, 10, 5, 1)
    assert engine.evaluate_leaks(end) == 0
    assert alarms(regra) == []
    assert regra_preview(regra=regra, now=end).total == 0
    # The same night without the step back leaks, in the job and in the Prévia.
    other = rule(tipo="vazamento", dispositivo=agua, vazao_minima=D("0.01"), nome="Outra")
    assert other.pk != regra.pk
    steady = [1000 + 0.05 * i for i in range(15)]
    ingest(agua, _night(local(2026, 3, 10, 22, 30), steady))  # night of 11 March
    end = local(2026, 3, 11, 5, 1)
    p = regra_preview(regra=regra, now=end)
    assert [(x.inicio, x.disparo) for x in p.alarms] == [
        (local(2026, 3, 11, 0, 0), local(2026, 3, 11, 5, 0))
    ]
    engine.evaluate_leaks(end)
    assert [a.inicio for a in alarms(regra)] == [local(2026, 3, 11, 0, 0)]


def test_hour_so_far_is_kept_between_batches_and_dropped_on_a_late_reading(
    energia, rule, monkeypatch
):
    """The consumer keeps each device's consumption so far in its hour (RuleCache.hours)
    and adds a batch's steps to it instead of re-reading the hour; a batch that does not
    follow the last reading counted (a late reading) re-reads the hour from storage."""
    regra = rule(tipo="consumo", periodo="hora", dispositivo=energia, limite_superior=D(50))
    cache = engine.RuleCache()
    reads = []
    real = engine.consumption_by_period

    def counting(**kw):
        reads.append(kw["start"])
        return real(**kw)

    monkeypatch.setattr(engine, "consumption_by_period", counting)

    def batch(points):
        rows = [row(energia, t, v) for t, v in points]
        insert_readings(rows)
        engine.evaluate_committed_readings(rows, cache=cache)

    t = local(2026, 3, 10, 9, 0)
    batch([(t - timedelta(minutes=10), 1000)])  # 08:50
    batch([(t + timedelta(minutes=10), 1030)])  # 09:10: a new hour, read: 30
    assert len(reads) == 2
    batch([(t + timedelta(minutes=20), 1045)])  # 30 + 15 = 45, from memory
    assert len(reads) == 2
    assert alarms(regra) == []
    # A late reading at 09:15, above both neighbours: 1030 -> 1100 (+70) -> 1045 (back:
    # 0): the hour is 30 + 70 + 0 = 100. It does not follow the last reading counted
    # (09:20), so the hour is read again, and fires with the exact figure.
    batch([(t + timedelta(minutes=15), 1100)])
    assert len(reads) == 3
    (a,) = alarms(regra)
    assert (a.inicio, a.valor) == (t, D(100))


def test_hour_so_far_passing_the_limit_fires_with_the_stored_figures(energia, rule):
    regra = rule(tipo="consumo", periodo="hora", dispositivo=energia, limite_superior=D(50))
    cache = engine.RuleCache()
    t = local(2026, 3, 10, 9, 0)
    for points in (
        [(t - timedelta(minutes=10), 1000)],
        [(t + timedelta(minutes=10), 1030)],  # 30
        [(t + timedelta(minutes=20), 1045)],  # 45, from memory
        [(t + timedelta(minutes=30), 1052)],  # 52 > 50: read, fires
    ):
        rows = [row(energia, x, v) for x, v in points]
        insert_readings(rows)
        engine.evaluate_committed_readings(rows, cache=cache)
    (a,) = alarms(regra)
    assert (a.inicio, a.valor) == (t, D(52))

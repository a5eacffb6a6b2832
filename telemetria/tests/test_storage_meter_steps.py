"""Backwards steps of cumulative meters, DST days and the order of "latest N", on data
whose results are computed by hand. Every consumption check runs before the rollup job
(from raw) and after it (from the stored aggregates): both must agree."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django_scopes import scopes_disabled

from tds_testing import factories
from tds_testing.readings import local, utc
from telemetria.models import EventoMedidor
from telemetria.storage import (
    DAY,
    consumption_by_day,
    consumption_by_month,
    latest_readings_for_conta,
    readings_series_for_device,
    refresh_rollups,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]


def consumo(conta, dispositivo, start=date(2018, 1, 1), end=date(2027, 1, 1)):
    return {
        c.mes: c.consumo
        for c in consumption_by_month(
            conta_id=conta.pk, start=start, end=end, dispositivo_ids=[dispositivo.pk]
        )
    }


def consumo_dia(conta, dispositivo, start, end):
    return {
        c.dia: c.consumo
        for c in consumption_by_day(
            conta_id=conta.pk, start=start, end=end, dispositivo_ids=[dispositivo.pk]
        )
    }


def both_ways(check):
    check()
    assert refresh_rollups().buckets > 0
    check()


def events(dispositivo):
    with scopes_disabled():
        return [
            (e.time, e.valor_anterior, e.valor, e.tipo)
            for e in EventoMedidor.objects.filter(dispositivo=dispositivo).order_by("time")
        ]


def test_simulator_restart_counts_zero_and_is_a_meter_event(conta_a, energia, store):
    """The demo's bug: a simulator restarted from an older value (709.32 -> 701.77 kWh)
    was billed as a counter reset (701.77 kWh from zero)."""
    store(
        energia,
        [
            (local(2026, 11, 2, 10, 0), D("700.00")),
            (local(2026, 11, 2, 11, 0), D("709.32")),
            (local(2026, 11, 2, 12, 0), D("701.77")),  # restart: starts over from an old value
            (local(2026, 11, 2, 13, 0), D("702.10")),
            (local(2026, 11, 3, 9, 0), D("703.00")),
        ],
    )

    def check():
        # (709.32 - 700.00) + 0 + (702.10 - 701.77) + (703.00 - 702.10); the old rule: 712.32
        assert consumo(conta_a, energia) == {date(2026, 11, 1): D("10.55")}
        assert consumo_dia(conta_a, energia, date(2026, 11, 1), date(2026, 11, 4)) == {
            date(2026, 11, 2): D("9.65"),
            date(2026, 11, 3): D("0.90"),
        }

    both_ways(check)
    assert events(energia) == [
        (local(2026, 11, 2, 12, 0), D("709.32"), D("701.77"), EventoMedidor.Tipo.RECUO)
    ]


def test_restart_across_a_month_boundary_counts_zero(conta_a, energia, store):
    store(
        energia,
        [
            (local(2026, 10, 31, 22, 0), D("700.00")),
            (local(2026, 10, 31, 23, 50), D("709.32")),
            (local(2026, 11, 1, 0, 10), D("701.77")),  # the first reading of a month and a day
            (local(2026, 11, 1, 8, 0), D("703.00")),
        ],
    )

    def check():
        assert consumo(conta_a, energia) == {
            date(2026, 10, 1): D("9.32"),
            date(2026, 11, 1): D("1.23"),
        }

    both_ways(check)
    assert events(energia) == [
        (local(2026, 11, 1, 0, 10), D("709.32"), D("701.77"), EventoMedidor.Tipo.RECUO)
    ]


def test_late_readings_up_to_a_month_start_reach_the_stored_day_and_month(
    conta_a, energia, temperatura, store
):
    """Readings that arrive after the rollup job has stored their days (a gateway back
    online sends its backlog), ending exactly at local midnight on the 1st: that day and
    that month must be stored with them. (TimescaleDB 2.28 left both out: its refresh
    drops the last bucket of a change that ends exactly where a bucket starts.)"""
    store(temperatura, [(local(2026, 10, 1, 12, 0), D("20.0"))])
    store(temperatura, [(local(2026, 11, 20, 12, 0), D("21.0"))])
    assert refresh_rollups().buckets > 0  # the stored days and months reach past 1 Nov
    store(
        energia,
        [
            (local(2026, 10, 31, 23, 50), D("100.00")),
            (local(2026, 11, 1, 0, 0), D("101.50")),  # local midnight, the first of a month
        ],
    )

    def check():
        assert consumo(conta_a, energia) == {date(2026, 10, 1): 0, date(2026, 11, 1): D("1.50")}
        assert consumo_dia(conta_a, energia, date(2026, 10, 1), date(2026, 12, 1)) == {
            date(2026, 10, 31): 0,
            date(2026, 11, 1): D("1.50"),
        }
        days = readings_series_for_device(
            conta_id=conta_a.pk,
            dispositivo_id=energia.pk,
            start=local(2026, 10, 31),
            end=local(2026, 11, 2),
            bucket=DAY,
        )
        assert [(p.n, p.ultimo) for p in days] == [(1, D("100.00")), (1, D("101.50"))]

    both_ways(check)


def test_16_bit_register_rollover_with_a_factor(conta_a, energia, store):
    """A 16-bit register of 0.01 kWh wraps at 655.36 kWh: 655.00 -> 2.00 is 2.36 kWh."""
    energia.registro_maximo = 65535
    energia.fator_conversao = D("0.01")
    energia.save()
    store(
        energia,
        [
            (local(2026, 3, 10, 12, 0), D("650.00")),
            (local(2026, 3, 10, 23, 0), D("655.00")),
            (local(2026, 3, 11, 1, 0), D("2.00")),  # rollover across midnight
            (local(2026, 3, 11, 5, 0), D("5.00")),
            (local(2026, 3, 11, 6, 0), D("654.00")),  # a glitch up ...
            (local(2026, 3, 11, 7, 0), D("5.50")),  # ... and back: 654 -> 5.5 is a rollover
            (local(2026, 3, 11, 8, 0), D("3.00")),  # back 2.5, far from the maximum: zero
            (local(2026, 3, 11, 9, 0), D("4.00")),
        ],
    )

    def check():
        # 5 + 2.36 + 3 + 649 + (655.36 - 654 + 5.5) + 0 + 1
        assert consumo(conta_a, energia) == {date(2026, 3, 1): D("667.22")}
        days = readings_series_for_device(
            conta_id=conta_a.pk,
            dispositivo_id=energia.pk,
            start=local(2026, 3, 10),
            end=local(2026, 3, 12),
            bucket=DAY,
        )
        assert [(p.n, p.primeiro, p.ultimo) for p in days] == [
            (2, D("650.00"), D("655.00")),
            (6, D("2.00"), D("4.00")),
        ]

    both_ways(check)
    assert [e[3] for e in events(energia)] == [
        EventoMedidor.Tipo.VIRADA,
        EventoMedidor.Tipo.VIRADA,
        EventoMedidor.Tipo.RECUO,
    ]


def test_decimal_register_and_a_register_without_maximum(conta_a, gateway_a, store):
    odometro = factories.make_dispositivo(
        gateway=gateway_a, codigo="D07", tipo="AGUA", registro_maximo=99999
    )  # 5 digits, m³
    sem_maximo = factories.make_dispositivo(
        gateway=gateway_a, codigo="D08", tipo="AGUA", registro_maximo=None
    )
    points = [
        (local(2026, 5, 4, 10, 0), 99990),
        (local(2026, 5, 4, 11, 0), 99998),
        (local(2026, 5, 4, 12, 0), 3),
        (local(2026, 5, 4, 13, 0), 10),
    ]
    store(odometro, points)
    store(sem_maximo, points)

    def check():
        assert consumo(conta_a, odometro) == {date(2026, 5, 1): D(8 + 5 + 7)}
        assert consumo(conta_a, sem_maximo) == {date(2026, 5, 1): D(8 + 0 + 7)}

    both_ways(check)
    assert [e[3] for e in events(odometro)] == [EventoMedidor.Tipo.VIRADA]
    assert [e[3] for e in events(sem_maximo)] == [EventoMedidor.Tipo.RECUO]


def test_a_day_of_23_hours_in_sao_paulo_is_counted_once(conta_a, energia, store):
    """São Paulo's 2018-11-04 began at 01:00 (DST): the day is 23 h long. Readings every
    30 min, +1 each: November's consumption is the number of steps, and each reading
    belongs to exactly one day."""
    start = utc(2018, 11, 3, 12, 0)
    points = [(start + timedelta(minutes=30 * i), 100 + i) for i in range(145)]
    store(energia, points)

    def check():
        assert consumo(conta_a, energia) == {date(2018, 11, 1): D(144)}
        days = readings_series_for_device(
            conta_id=conta_a.pk,
            dispositivo_id=energia.pk,
            start=utc(2018, 11, 3, 12),
            end=utc(2018, 11, 7),
            bucket=DAY,
        )
        assert sum(p.n for p in days) == 145
        nov4 = next(p for p in days if p.bucket == utc(2018, 11, 4, 3))  # 01:00 -02
        assert nov4.n == 46  # 23 h
        assert (nov4.primeiro, nov4.ultimo) == (D(100 + 30), D(100 + 30 + 45))
        per_day = consumo_dia(conta_a, energia, date(2018, 11, 3), date(2018, 11, 7))
        assert sum(per_day.values()) == 144
        assert per_day[date(2018, 11, 4)] == 46  # the step into its first reading + 45

    both_ways(check)
    assert events(energia) == []


def test_latest_readings_with_equal_times_in_device_order(conta_a, gateway_a, store):
    devices = [factories.make_dispositivo(gateway=gateway_a, codigo=f"D1{i}") for i in range(3)]
    at = local(2026, 6, 1, 12, 0)
    for d in reversed(devices):  # stored in the opposite order
        store(d, [(at, 1)])
    for _ in range(3):
        latest = latest_readings_for_conta(conta_id=conta_a.pk, limit=2)
        assert [r.dispositivo_id for r in latest] == [devices[0].pk, devices[1].pk]


def test_changing_the_register_maximum_judges_the_stored_steps_again(conta_a, gateway_a, store):
    """The stored day rollups judged each backwards step with the register's maximum of
    the time; editing the device (its page, the admin: the service) judges them again.
    D07's step back is inside a day (the day's adjustment), D08's between two days of a
    month (the month's adjustment)."""
    from dispositivos import services as registry

    d07 = factories.make_dispositivo(
        gateway=gateway_a, codigo="D07", tipo="AGUA", registro_maximo=99999
    )
    d08 = factories.make_dispositivo(
        gateway=gateway_a, codigo="D08", tipo="AGUA", registro_maximo=99999
    )
    store(
        d07,
        [
            (local(2026, 5, 4, 10, 0), 99990),
            (local(2026, 5, 4, 11, 0), 99998),
            (local(2026, 5, 4, 12, 0), 3),
            (local(2026, 5, 4, 13, 0), 10),
        ],
    )
    store(
        d08,
        [
            (local(2026, 5, 4, 22, 0), 99990),
            (local(2026, 5, 4, 23, 0), 99998),
            (local(2026, 5, 5, 1, 0), 3),
            (local(2026, 5, 5, 2, 0), 10),
        ],
    )
    may = (date(2026, 5, 1), date(2026, 6, 1))
    assert refresh_rollups().buckets == 3
    # A 5-digit register: 99998 -> 3 is a rollover, 2 + 3 = 5 m³.
    assert consumo(conta_a, d07) == {date(2026, 5, 1): D(8 + 5 + 7)}
    assert consumo(conta_a, d08) == {date(2026, 5, 1): D(8 + 5 + 7)}
    assert [e[3] for e in events(d07) + events(d08)] == [EventoMedidor.Tipo.VIRADA] * 2

    with scopes_disabled():
        registry.dispositivo_update(dispositivo=d07, registro_maximo=None)
        registry.dispositivo_update(dispositivo=d08, registro_maximo=None)

    def without_maximum():
        # No maximum: no step back is a rollover, it counts zero.
        assert consumo(conta_a, d07) == {date(2026, 5, 1): D(8 + 0 + 7)}
        assert consumo(conta_a, d08) == {date(2026, 5, 1): D(8 + 0 + 7)}
        assert consumo_dia(conta_a, d07, *may) == {date(2026, 5, 4): D(15)}
        assert consumo_dia(conta_a, d08, *may) == {date(2026, 5, 4): D(8), date(2026, 5, 5): D(7)}

    both_ways(without_maximum)
    assert [e[3] for e in events(d07) + events(d08)] == [EventoMedidor.Tipo.RECUO] * 2

    # And back: a 5-digit register again makes the step a rollover.
    with scopes_disabled():
        registry.dispositivo_update(dispositivo=d08, registro_maximo=99999)

    def rollover_again():
        assert consumo(conta_a, d07) == {date(2026, 5, 1): D(15)}
        assert consumo(conta_a, d08) == {date(2026, 5, 1): D(20)}
        assert consumo_dia(conta_a, d08, *may) == {date(2026, 5, 4): D(8), date(2026, 5, 5): D(12)}

    both_ways(rollover_again)
    assert [e[3] for e in events(d08)] == [EventoMedidor.Tipo.VIRADA]

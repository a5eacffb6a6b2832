"""The consumption totals the rollup job keeps per (gateway, tipo, unidade, local day)
(storage.totals), on data whose results are computed by hand: rollover and meter swap,
interval meters, a silent day, late readings re-opening past days, DST days of
America/Sao_Paulo, a device moved, re-typed or deleted. Every check also compares the
totals with the per-device figures (consumption_by_day, consumption_by_month) summed by
each device's current gateway, tipo and unidade: they must be equal."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django_scopes import scopes_disabled

from dispositivos import services
from dispositivos.models import Dispositivo
from tds_testing import factories
from tds_testing.readings import local, utc
from telemetria.storage import (
    consumption_by_day,
    consumption_by_month,
    consumption_totals,
    consumption_totals_by_month,
    gateway_changes,
    refresh_rollups,
    top_gateways,
)
from telemetria.storage.sql import fetch, zone
from telemetria.storage.tables import TOTALS_CHANGE, TOTALS_DAY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]

EVER = (date(2018, 1, 1), date(2027, 1, 1))
UTILITIES = [("ENERGIA", "kWh"), ("AGUA", "m³"), ("AGUA", "L")]


def stored_gateway_days(conta) -> dict:
    """{(gateway_id, tipo, unidade, day): consumo} as stored (nonzero only)."""
    tz = zone()
    rows = fetch(
        f"SELECT gateway_id, tipo, unidade, bucket, consumo FROM {TOTALS_DAY} WHERE conta_id = %s",
        [conta.pk],
    )
    return {(g, t, u, b.astimezone(tz).date()): c for g, t, u, b, c in rows if c}


def expected_gateway_days(conta) -> dict:
    """The same from each device's consumption_by_day (real time), by its current group."""
    with scopes_disabled():
        devices = {d.pk: d for d in Dispositivo.objects.filter(conta=conta)}
    out: dict = defaultdict(D)
    for c in consumption_by_day(conta_id=conta.pk, start=EVER[0], end=EVER[1]):
        d = devices[c.dispositivo_id]
        if c.consumo is not None:
            out[(d.gateway_id, d.tipo, d.unidade, c.dia)] += c.consumo
    return {k: v for k, v in out.items() if v}


def expected_months(conta) -> dict:
    with scopes_disabled():
        devices = {d.pk: d for d in Dispositivo.objects.filter(conta=conta)}
    out: dict = defaultdict(D)
    for c in consumption_by_month(conta_id=conta.pk, start=EVER[0], end=EVER[1]):
        d = devices[c.dispositivo_id]
        if c.consumo is not None:
            out[(d.tipo, d.unidade, c.mes)] += c.consumo
    return {k: v for k, v in out.items() if v}


def account_days(conta, start=EVER[0], end=EVER[1]) -> dict:
    return {
        (t.tipo, t.unidade, t.dia): t.consumo
        for t in consumption_totals(conta_id=conta.pk, start=start, end=end)
        if t.consumo
    }


def account_months(conta) -> dict:
    return {
        (t.tipo, t.unidade, t.mes): t.consumo
        for t in consumption_totals_by_month(conta_id=conta.pk, start=EVER[0], end=EVER[1])
        if t.consumo
    }


def stored_changes(conta) -> dict:
    tz = zone()
    rows = fetch(
        f"SELECT gateway_id, tipo, unidade, bucket, consumo, anterior FROM {TOTALS_CHANGE}"
        " WHERE conta_id = %s",
        [conta.pk],
    )
    return {(g, t, u, b.astimezone(tz).date()): (c, a) for g, t, u, b, c, a in rows}


def assert_totals_match_the_devices(conta):
    per_gateway = expected_gateway_days(conta)
    assert stored_gateway_days(conta) == per_gateway
    one = timedelta(days=1)
    changes = {}
    for g, t, u, day in list(per_gateway) + [(g, t, u, d + one) for g, t, u, d in per_gateway]:
        now, before = per_gateway.get((g, t, u, day), 0), per_gateway.get((g, t, u, day - one), 0)
        if now != before:
            changes[(g, t, u, day)] = (now, before)
    assert stored_changes(conta) == changes
    per_account: dict = defaultdict(D)
    for (_g, t, u, day), c in per_gateway.items():
        per_account[(t, u, day)] += c
    assert account_days(conta) == {k: v for k, v in per_account.items() if v}
    assert account_months(conta) == expected_months(conta)


@pytest.fixture
def plant(conta_a, store):
    gw1 = factories.make_gateway(conta=conta_a, codigo="GW-1")
    gw2 = factories.make_gateway(conta=conta_a, codigo="GW-2")
    # a 16-bit register of 0.01 kWh: wraps at 655.36 kWh
    e1 = factories.make_dispositivo(
        gateway=gw1, codigo="E1", tipo="ENERGIA", registro_maximo=65535, fator_conversao="0.01"
    )
    e2 = factories.make_dispositivo(gateway=gw1, codigo="E2", tipo="ENERGIA", slave_id=9)
    termo = factories.make_dispositivo(gateway=gw1, codigo="T1", tipo="TEMP")
    a1 = factories.make_dispositivo(gateway=gw2, codigo="A1", tipo="AGUA")
    w = factories.make_dispositivo(gateway=gw2, codigo="W1", tipo="AGUA", tipo_medidor="INTERVALO")
    litros = factories.make_dispositivo(gateway=gw2, codigo="L1", tipo="AGUA", unidade="L")
    store(
        e1,
        [
            (local(2026, 3, 10, 12, 0), D("650.00")),
            (local(2026, 3, 10, 23, 0), D("655.00")),  # Mar 10: 5.00
            (local(2026, 3, 11, 1, 0), D("2.00")),  # rollover: 655.36 - 655 + 2 = 2.36
            (local(2026, 3, 11, 5, 0), D("5.00")),  # Mar 11: 2.36 + 3 = 5.36
        ],
    )
    store(
        e2,
        [
            (local(2026, 3, 10, 8, 0), D("709.32")),
            (local(2026, 3, 10, 12, 0), D("701.77")),  # a meter swap / restart: zero
            (local(2026, 3, 10, 13, 0), D("702.10")),  # Mar 10: 0.33
            (local(2026, 3, 11, 9, 0), D("703.00")),  # Mar 11: 0.90
        ],
    )
    store(termo, [(local(2026, 3, 10, 8, 0), 21), (local(2026, 3, 11, 8, 0), 25)])
    store(
        a1,
        [
            (local(2026, 3, 10, 8, 0), 100),
            (local(2026, 3, 10, 20, 0), 110),  # Mar 10: 10; silent on Mar 11
            (local(2026, 3, 12, 8, 0), 115),
            (local(2026, 3, 12, 20, 0), 140),  # Mar 12: 5 + 25 = 30
        ],
    )
    store(w, [(local(2026, 3, 10, 9, 0), D("1.5")), (local(2026, 3, 10, 10, 0), D("2.5"))])
    store(w, [(local(2026, 3, 12, 9, 0), 1)])  # Mar 10: 4.0, Mar 12: 1
    store(litros, [(local(2026, 3, 10, 9, 0), 10), (local(2026, 3, 10, 10, 0), 20)])  # 10 L
    return {"gw1": gw1, "gw2": gw2, "e1": e1, "e2": e2, "a1": a1, "w": w, "litros": litros}


HAND = {
    ("ENERGIA", "kWh", date(2026, 3, 10)): D("5.33"),  # 5.00 + 0.33
    ("ENERGIA", "kWh", date(2026, 3, 11)): D("6.26"),  # 5.36 + 0.90
    ("AGUA", "m³", date(2026, 3, 10)): D("14.0"),  # 10 + 4.0
    ("AGUA", "m³", date(2026, 3, 12)): D("31"),  # 30 + 1
    ("AGUA", "L", date(2026, 3, 10)): D("10"),
}


def test_totals_are_the_rollup_jobs_and_equal_the_devices_sums(conta_a, conta_b, plant, store):
    """As of the rollup job's last run: nothing before it runs, the hand-computed sums
    after; another account's meters never in them."""
    other = factories.make_dispositivo(
        gateway=factories.make_gateway(conta=conta_b, codigo="GW-B"), tipo="AGUA"
    )
    store(other, [(local(2026, 3, 10, 1, 0), 0), (local(2026, 3, 10, 2, 0), 9999)])
    assert account_days(conta_a) == {}  # the job has not run: the lag
    assert refresh_rollups().buckets > 0
    assert account_days(conta_a) == HAND
    assert account_months(conta_a) == {
        ("ENERGIA", "kWh", date(2026, 3, 1)): D("11.59"),
        ("AGUA", "m³", date(2026, 3, 1)): D("45"),
        ("AGUA", "L", date(2026, 3, 1)): D("10"),
    }
    assert_totals_match_the_devices(conta_a)
    assert account_days(conta_b) == {("AGUA", "m³", date(2026, 3, 10)): D(9999)}
    meters = {
        (t.tipo, t.unidade): t.medidores
        for t in consumption_totals(
            conta_id=conta_a.pk, start=date(2026, 3, 10), end=date(2026, 3, 11)
        )
    }
    # meters with readings that day: a1 and w in m³ (litres apart; no thermometer)
    assert meters == {("AGUA", "L"): 1, ("AGUA", "m³"): 2, ("ENERGIA", "kWh"): 2}


def test_late_readings_reopen_a_past_day_and_move_the_next_days_first_step(conta_a, plant, store):
    refresh_rollups()
    # a1 reads 112 on its silent Mar 11: Mar 11 gets 2, Mar 12 gets 3 + 25 = 28 (+1 of w);
    # e2's late 702.50 on Mar 10 23:00: Mar 10 0.33 + 0.40, Mar 11 0.50.
    store(plant["a1"], [(local(2026, 3, 11, 12, 0), 112)])
    store(plant["e2"], [(local(2026, 3, 10, 23, 0), D("702.50"))])
    assert account_days(conta_a) == HAND  # until the job runs
    assert refresh_rollups().buckets > 0
    assert account_days(conta_a) == {
        **HAND,
        ("ENERGIA", "kWh", date(2026, 3, 10)): D("5.73"),
        ("ENERGIA", "kWh", date(2026, 3, 11)): D("5.86"),
        ("AGUA", "m³", date(2026, 3, 11)): D("2"),
        ("AGUA", "m³", date(2026, 3, 12)): D("29"),
    }
    assert_totals_match_the_devices(conta_a)
    # the month is the same: the steps moved between days
    assert account_months(conta_a)[("AGUA", "m³", date(2026, 3, 1))] == 45


def test_the_job_in_small_batches_ends_with_the_same_totals(conta_a, plant):
    while refresh_rollups(max_rows=2).buckets:
        pass
    assert account_days(conta_a) == HAND
    assert_totals_match_the_devices(conta_a)


def test_days_of_23_and_25_hours_in_sao_paulo(conta_a, gateway_a, store):
    """2018-11-04 began at 01:00 (23 h); 2019-02-16 ended at 24:00 -02 = 23:00 -03 and then
    ran another hour (25 h). Readings every 30 min, +1 each: each day's total is its
    number of steps."""
    spring = factories.make_dispositivo(gateway=gateway_a, codigo="D1", tipo="ENERGIA")
    autumn = factories.make_dispositivo(gateway=gateway_a, codigo="D2", tipo="ENERGIA")
    start = utc(2018, 11, 3, 12, 0)
    store(spring, [(start + timedelta(minutes=30 * i), 100 + i) for i in range(145)])
    start = utc(2019, 2, 16, 2, 0)  # local midnight of the 16th (-02)
    store(autumn, [(start + timedelta(minutes=30 * i), 500 + i) for i in range(98)])
    refresh_rollups()
    days = account_days(conta_a)
    assert days[("ENERGIA", "kWh", date(2018, 11, 4))] == 46  # the step into it + 45
    assert days[("ENERGIA", "kWh", date(2019, 2, 16))] == 49  # 50 readings in 25 h
    assert days[("ENERGIA", "kWh", date(2019, 2, 17))] == 48
    assert account_months(conta_a) == {
        ("ENERGIA", "kWh", date(2018, 11, 1)): 144,
        ("ENERGIA", "kWh", date(2019, 2, 1)): 97,
    }
    assert_totals_match_the_devices(conta_a)

    def change(day):
        (c,) = gateway_changes(
            conta_id=conta_a.pk, day=day, utilities=[("ENERGIA", "kWh")], limit=5
        )
        return c.consumo, c.anterior

    # Nov 3 from 09:00: 30 readings, 29 steps; Nov 5: 48 steps
    assert change(date(2018, 11, 4)) == (46, 29)
    assert change(date(2018, 11, 5)) == (48, 46)
    assert change(date(2019, 2, 16)) == (49, 0)
    assert change(date(2019, 2, 17)) == (48, 49)


def test_a_moved_retyped_or_deleted_device_takes_its_history_at_once(conta_a, plant):
    """Decided: the totals follow the device's current gateway, tipo and unidade (its
    whole history moves, as a sum at request time would), in the transaction that
    changes it, without waiting for the rollup job."""
    refresh_rollups()
    march, after = date(2026, 3, 1), date(2026, 4, 1)

    def top(utility):
        return [
            (g.gateway_id, g.consumo)
            for g in top_gateways(
                conta_id=conta_a.pk, month=march, end=after, utilities=[utility], limit=5
            )
        ]

    gw1, gw2 = plant["gw1"].pk, plant["gw2"].pk
    assert top(("ENERGIA", "kWh")) == [(gw1, D("11.59"))]
    services.dispositivo_update(dispositivo=plant["e2"], gateway=plant["gw2"])
    assert top(("ENERGIA", "kWh")) == [(gw1, D("10.36")), (gw2, D("1.23"))]
    assert account_days(conta_a) == HAND  # the account's sums do not change
    assert_totals_match_the_devices(conta_a)

    services.dispositivo_update(dispositivo=plant["a1"], unidade="L")  # m³ -> L
    assert top(("AGUA", "L")) == [(gw2, D("50"))]  # 10 + 40
    services.dispositivo_update(dispositivo=plant["w"], tipo_medidor="INSTANTANEO")
    assert top(("AGUA", "m³")) == []
    assert_totals_match_the_devices(conta_a)

    with scopes_disabled():
        services.dispositivo_delete(dispositivo=Dispositivo.objects.get(pk=plant["e1"].pk))
    assert top(("ENERGIA", "kWh")) == [(gw2, D("1.23"))]
    assert_totals_match_the_devices(conta_a)
    with scopes_disabled():
        services.gateway_delete(gateway=plant["gw2"])
    assert account_days(conta_a) == {}


def test_top_gateways_and_changes_rank_like_the_summary(conta_a, plant):
    refresh_rollups()
    gw1, gw2 = plant["gw1"].pk, plant["gw2"].pk
    # this month up to (not including) Mar 11: only Mar 10 counts
    ranked = top_gateways(
        conta_id=conta_a.pk,
        month=date(2026, 3, 1),
        end=date(2026, 3, 11),
        utilities=UTILITIES,
        limit=5,
    )
    assert [(g.gateway_id, g.tipo, g.unidade, g.consumo) for g in ranked] == [
        (gw1, "ENERGIA", "kWh", D("5.33")),  # in the order of the utilities asked
        (gw2, "AGUA", "m³", D("14.0")),
        (gw2, "AGUA", "L", D("10")),
    ]
    changes = gateway_changes(
        conta_id=conta_a.pk,
        day=date(2026, 3, 12),
        utilities=UTILITIES,
        limit=5,
    )
    assert [(c.gateway_id, c.tipo, c.consumo, c.anterior) for c in changes] == [
        (gw2, "AGUA", D("31"), 0),  # +31
        (gw1, "ENERGIA", 0, D("6.26")),  # -6.26
    ]

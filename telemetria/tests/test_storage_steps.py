"""The alarm engine's reads: consumption per reading and per local hour/day, with the same
meter semantics as the months; the in-memory twin (steps_for_rows) equals the SQL."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from tds_testing.readings import local, row
from telemetria.storage import (
    DAY,
    HOUR,
    consumption_by_period,
    consumption_steps,
    last_reading_times,
    previous_from_recent,
    previous_from_rows,
    previous_readings,
    previous_readings_query,
    recent_readings_query,
    steps_for_rows,
)

pytestmark = pytest.mark.django_db

# A cumulative register stepping back to 3 at 10:40: not a rollover of its 32-bit register
# (110 is nowhere near the maximum), so it counts zero, as billing counts it
# (storage.sql.step_adjustment), and the counter re-bases at 3.
POINTS = [(0, 100), (20, 110), (40, 3), (60, 10), (80, 25), (100, 25)]


def _store(store, dev, points, t0):
    store(dev, [(t0 + timedelta(minutes=m), v) for m, v in points])


def test_steps_follow_the_meter_kind_and_the_twin_agrees(energia, agua_intervalo, store):
    t0 = local(2026, 3, 10, 10, 0)
    _store(store, energia, POINTS, t0)
    _store(store, agua_intervalo, [(0, 5), (30, 7)], t0)
    sql = consumption_steps(
        conta_id=energia.conta_id,
        dispositivo_ids=[energia.pk, agua_intervalo.pk],
        start=t0 + timedelta(minutes=20),
        end=t0 + timedelta(minutes=100),
    )
    by_dev = {}
    for s in sql:
        by_dev.setdefault(s.dispositivo_id, []).append(s)
    assert [s.consumo for s in by_dev[energia.pk]] == [10, 0, 7, 15, 0]
    assert by_dev[energia.pk][0].anterior == 100  # found before the range
    assert [s.consumo for s in by_dev[agua_intervalo.pk]] == [7]
    batch = [row(energia, t0 + timedelta(minutes=m), v) for m, v in POINTS[1:]]
    batch += [row(agua_intervalo, t0 + timedelta(minutes=30), 7)]
    twin = steps_for_rows(conta_id=energia.conta_id, rows=batch)
    assert twin[energia.pk] == by_dev[energia.pk]
    assert twin[agua_intervalo.pk] == by_dev[agua_intervalo.pk]


def test_consumption_per_local_hour_and_day(energia, store):
    t0 = local(2026, 3, 10, 10, 0)
    _store(store, energia, POINTS, t0)
    hours = consumption_by_period(
        conta_id=energia.conta_id,
        dispositivo_ids=[energia.pk],
        start=t0,
        end=t0 + timedelta(hours=3),
        period=HOUR,
    )
    assert [(p.bucket, p.consumo) for p in hours] == [
        (t0, Decimal(10)),  # 10:20 +10, 10:40 back to 3: +0 (10:00 has no previous)
        (t0 + timedelta(hours=1), Decimal(22)),  # 11:00 +7, 11:20 +15, 11:40 +0
    ]
    store(energia, [(local(2026, 3, 11, 9, 0), 40)])
    days = consumption_by_period(
        conta_id=energia.conta_id,
        dispositivo_ids=[energia.pk],
        start=local(2026, 3, 10),
        end=local(2026, 3, 12),
        period=DAY,
    )
    assert [(p.bucket, p.consumo) for p in days] == [
        # Days follow the billing rule (storage.sql.step_adjustment): 110 -> 3 is not a
        # rollover of a 32-bit register, so it counts zero: 10 + 0 + 7 + 15 + 0.
        (local(2026, 3, 10), Decimal(32)),
        (local(2026, 3, 11), Decimal(15)),
    ]


def test_another_accounts_device_yields_nothing(energia, store, conta_b):
    t0 = local(2026, 3, 10, 10, 0)
    _store(store, energia, POINTS, t0)
    kw = {"conta_id": conta_b.pk, "dispositivo_ids": [energia.pk]}
    assert consumption_steps(**kw, start=t0, end=t0 + timedelta(hours=2)) == []
    assert consumption_by_period(**kw, start=t0, end=t0 + timedelta(hours=2), period=HOUR) == []
    assert last_reading_times(**kw, since=t0) == {}
    assert steps_for_rows(conta_id=conta_b.pk, rows=[row(energia, t0, 1)]) == {}


def test_last_reading_times_is_each_devices_newest_reading_since(energia, agua_intervalo, store):
    t0 = local(2026, 3, 10, 10, 0)
    _store(store, energia, POINTS, t0)
    _store(store, agua_intervalo, [(0, 5)], t0)  # before `since`: absent
    got = last_reading_times(
        conta_id=energia.conta_id,
        dispositivo_ids=[energia.pk, agua_intervalo.pk],
        since=t0 + timedelta(minutes=10),
    )
    assert got == {energia.pk: t0 + timedelta(minutes=100)}


def _rows_read(sql: str, params: dict) -> int:
    """Rows the plan's table and index scans returned, over all their loops."""
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cur.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node):
        own = node["Actual Rows"] * node["Actual Loops"] if "Relation Name" in node else 0
        return own + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def test_the_reading_before_a_batch_is_found_from_a_known_one_in_a_row_or_two(
    energia, agua_intervalo, store
):
    """The consumer's probe for each device's reading before a batch starts at the last
    reading it saw committed: the same answer as the whole lookback, from a row or two,
    whatever the planner's statistics (counted on the newest partition analysed empty,
    as after it is created: the lookback's probe then read and sorted every reading of
    the last 6 h, per device and batch)."""
    with connection.cursor() as cur:
        cur.execute("ANALYZE tds_new_leitura_dispositivo")
    t0 = local(2026, 3, 10, 8, 0)
    for dev in (energia, agua_intervalo):
        store(dev, [(t0 + timedelta(minutes=m), 1000 + m) for m in range(300)])
    first = t0 + timedelta(minutes=300)
    firsts = {energia.pk: first, agua_intervalo.pk: first}
    known = {energia.pk: first - timedelta(minutes=1), agua_intervalo.pk: t0}
    want = {
        energia.pk: (first - timedelta(minutes=1), Decimal(1299)),
        agua_intervalo.pk: (first - timedelta(minutes=1), Decimal(1299)),
    }
    assert previous_readings(firsts) == want
    sql, params = previous_readings_query(firsts, stored=known)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        assert previous_from_rows(cur.fetchall()) == want
    # energia from its known reading: one row; agua from its first one: the whole 5 h
    assert _rows_read(sql, params) <= 2 + 300
    assert _rows_read(*previous_readings_query({energia.pk: first}, stored=known)) <= 2

    # the known reading deleted (and those after it): the rest of the lookback answers
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM tds_new_leitura_dispositivo WHERE dispositivo_id = %s AND time >= %s",
            [energia.pk, first - timedelta(minutes=3)],
        )
    sql, params = previous_readings_query({energia.pk: first}, stored=known)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        assert previous_from_rows(cur.fetchall()) == {
            energia.pk: (first - timedelta(minutes=4), Decimal(1296))
        }


def test_the_readings_before_a_batch_from_the_accounts_recent_range(
    energia, agua_intervalo, temperatura, store
):
    """Each device's last reading before its own first one, from one range of the
    account's readings: the batch's own readings (at or after a first) and a device
    with nothing in the range (absent: the caller probes it) are told apart."""
    t0 = local(2026, 3, 10, 8, 0)
    store(energia, [(t0 + timedelta(seconds=s), 100 + s) for s in (0, 10, 20, 30)])
    store(agua_intervalo, [(t0 + timedelta(seconds=s), s) for s in (5, 25)])
    store(temperatura, [(t0 - timedelta(hours=1), 20)])  # before the range
    firsts = {
        energia.pk: t0 + timedelta(seconds=20),  # 20 and 30 are the batch's own
        agua_intervalo.pk: t0 + timedelta(seconds=30),
        temperatura.pk: t0 + timedelta(seconds=30),
    }
    sql, params = recent_readings_query(energia.conta_id, t0, t0 + timedelta(seconds=30))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        got = previous_from_recent(cur.fetchall(), firsts)
    assert got == {
        energia.pk: (t0 + timedelta(seconds=10), Decimal(110)),
        agua_intervalo.pk: (t0 + timedelta(seconds=25), Decimal(25)),
    }
    assert previous_readings(firsts) == {
        **got,
        temperatura.pk: (t0 - timedelta(hours=1), Decimal(20)),
    }

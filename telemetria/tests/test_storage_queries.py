"""The read API on known data whose results are computed by hand in each test.

Every check runs twice: before the rollup job (everything computed from raw rows) and
after it (from the rollup tables / continuous aggregates): both must agree.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from tds_testing.readings import local, utc
from telemetria.storage import (
    DAY,
    MONTH,
    consumption_by_month,
    latest_readings_for_conta,
    readings_series_for_device,
    refresh_rollups,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]


def consumo(conta, dispositivo, start=date(2025, 1, 1), end=date(2027, 1, 1)):
    return {
        c.mes: c.consumo
        for c in consumption_by_month(
            conta_id=conta.pk, start=start, end=end, dispositivo_ids=[dispositivo.pk]
        )
    }


def both_ways(check):
    """Run `check` on raw (pending) data, refresh the rollups, run it again."""
    check()
    assert refresh_rollups().buckets > 0
    check()


# A cumulative energy register around the January/February boundary in São Paulo (UTC-3).
MONTH_BOUNDARY = [
    (local(2026, 1, 10, 12, 0), 100),
    (utc(2026, 2, 1, 2, 30), 130),  # 2026-01-31 23:30 local: still January
    (local(2026, 2, 1, 0, 30), 131),  # 03:30Z: February
    (local(2026, 2, 15, 12, 0), 150),
    (local(2026, 2, 20, 9, 0), 5),  # meter replaced (not near the 32-bit maximum): counts 0
    (local(2026, 2, 28, 12, 0), 25),
    (local(2026, 3, 2, 8, 0), 40),
]


def test_month_boundary_in_sao_paulo_and_counter_reset(conta_a, energia, store):
    store(energia, MONTH_BOUNDARY)

    def check():
        # Jan: 130 - 100. Feb: (131 - 130) + (150 - 131) + 0 + (25 - 5). Mar: 40 - 25.
        assert consumo(conta_a, energia) == {
            date(2026, 1, 1): D(30),
            date(2026, 2, 1): D(40),
            date(2026, 3, 1): D(15),
        }
        # Asking for February alone still counts the step from January's last reading.
        assert consumo(conta_a, energia, date(2026, 2, 1), date(2026, 3, 1)) == {
            date(2026, 2, 1): D(40)
        }

    both_ways(check)


def test_rollover_inside_a_day_and_glitch_across_midnight(conta_a, energia, store):
    energia.registro_maximo = 999  # register wraps at 1000 (factor 1)
    energia.save()
    store(
        energia,
        [
            (local(2026, 3, 10, 10, 0), 990),
            (local(2026, 3, 10, 11, 0), 998),
            (local(2026, 3, 10, 12, 0), 4),  # rollover inside the day: 1000 - 998 + 4
            (local(2026, 3, 10, 13, 0), 10),
            (local(2026, 3, 11, 0, 30), 8),  # backwards, far from the maximum: counts 0
            (local(2026, 3, 11, 5, 0), 13),
        ],
    )

    def check():
        # 8 + 6 + 6 + 0 + 5
        assert consumo(conta_a, energia) == {date(2026, 3, 1): D(25)}
        days = readings_series_for_device(
            conta_id=conta_a.pk,
            dispositivo_id=energia.pk,
            start=local(2026, 3, 10),
            end=local(2026, 3, 12),
            bucket=DAY,
        )
        assert [(p.bucket, p.n, p.primeiro, p.ultimo, p.minimo, p.maximo) for p in days] == [
            (local(2026, 3, 10), 4, D(990), D(10), D(4), D(998)),
            (local(2026, 3, 11), 2, D(8), D(13), D(8), D(13)),
        ]

    both_ways(check)


def test_late_reading_after_a_refresh_is_counted(conta_a, energia, store):
    store(energia, [(local(2026, 1, 10, 12, 0), 100), (local(2026, 1, 20, 12, 0), 130)])
    refresh_rollups()
    assert consumo(conta_a, energia) == {date(2026, 1, 1): D(30)}

    # Arrives late: an earlier reading of the same month, and one in the middle.
    store(energia, [(local(2026, 1, 5, 8, 0), 90), (local(2026, 1, 15, 8, 0), 120)])

    def check():
        assert consumo(conta_a, energia) == {date(2026, 1, 1): D(40)}
        (jan,) = readings_series_for_device(
            conta_id=conta_a.pk,
            dispositivo_id=energia.pk,
            start=local(2026, 1, 1),
            end=local(2026, 2, 1),
            bucket=MONTH,
        )
        assert (jan.n, jan.soma, jan.primeiro, jan.ultimo) == (4, D(440), D(90), D(130))

    both_ways(check)


def test_duplicate_reading_counts_once(conta_a, energia, store):
    store(energia, [(local(2026, 1, 10, 12, 0), 100), (local(2026, 1, 20, 12, 0), 130)])
    refresh_rollups()
    result = store(energia, [(local(2026, 1, 20, 12, 0), 130)])

    assert (result.inserted, result.duplicates) == (0, 1)
    assert refresh_rollups().buckets == 0  # nothing new to refresh
    (jan,) = readings_series_for_device(
        conta_id=conta_a.pk,
        dispositivo_id=energia.pk,
        start=local(2026, 1, 1),
        end=local(2026, 2, 1),
        bucket=MONTH,
    )
    assert (jan.n, jan.soma) == (2, D(230))


def test_readings_far_in_the_past_and_future(conta_a, energia, store):
    store(energia, [(utc(2001, 5, 1, 12, 0), 10), (utc(2001, 5, 2, 12, 0), 12)])
    store(energia, [(utc(2080, 5, 1, 12, 0), 500), (utc(2080, 5, 9, 12, 0), 530)])

    def check():
        assert consumo(conta_a, energia, date(2001, 1, 1), date(2081, 1, 1)) == {
            date(2001, 5, 1): D(2),
            date(2080, 5, 1): D(518),  # 500 - 12 (the step from 2001) + 30
        }
        assert consumo(conta_a, energia, date(2080, 5, 1), date(2080, 6, 1)) == {
            date(2080, 5, 1): D(518)
        }

    both_ways(check)


def test_month_series_statistics(conta_a, energia, store):
    store(energia, MONTH_BOUNDARY)

    def check():
        points = readings_series_for_device(
            conta_id=conta_a.pk,
            dispositivo_id=energia.pk,
            start=local(2026, 1, 1),
            end=local(2026, 3, 1),
            bucket=MONTH,
        )
        assert [tuple(p) for p in points] == [
            (local(2026, 1, 1), 2, D(230), D(100), D(130), D(115), D(100), D(130)),
            (local(2026, 2, 1), 4, D(311), D(5), D(150), D("77.75"), D(131), D(25)),
        ]

    both_ways(check)


def test_interval_meter_sums_and_temperature_min_avg_max(
    conta_a, agua_intervalo, temperatura, store
):
    store(agua_intervalo, [(local(2026, 4, d, 12, 0), v) for d, v in [(1, 3), (2, 4.5), (30, 2)]])
    store(temperatura, [(local(2026, 4, 1, h, 0), v) for h, v in [(1, 20), (2, 25), (3, 21)]])

    def check():
        rows = {
            c.dispositivo_id: c
            for c in consumption_by_month(
                conta_id=conta_a.pk, start=date(2026, 4, 1), end=date(2026, 5, 1)
            )
        }
        assert rows[agua_intervalo.pk].consumo == D("9.5")
        temp = rows[temperatura.pk]
        assert temp.consumo is None
        assert (temp.minimo, temp.media, temp.maximo) == (D(20), D("22.0000"), D(25))

    both_ways(check)


def test_sub_day_buckets_from_raw(conta_a, temperatura, store):
    store(
        temperatura,
        [(local(2026, 4, 1, 10, m), v) for m, v in [(0, 20), (30, 22)]]
        + [(local(2026, 4, 1, 11, 15), 30)],
    )
    points = readings_series_for_device(
        conta_id=conta_a.pk,
        dispositivo_id=temperatura.pk,
        start=local(2026, 4, 1),
        end=local(2026, 4, 2),
        bucket=timedelta(hours=1),
    )
    assert [(p.bucket, p.n, p.media, p.primeiro, p.ultimo) for p in points] == [
        (local(2026, 4, 1, 10), 2, D(21), D(20), D(22)),
        (local(2026, 4, 1, 11), 1, D(30), D(30), D(30)),
    ]


def test_week_buckets_start_on_local_monday_and_stay_in_the_account(
    conta_a, conta_b, temperatura, store
):
    """The dashboard's widest buckets (2 and 7 days) come from the same series function."""
    store(temperatura, [(local(2026, 4, 1, 10), 20), (local(2026, 4, 6, 9), 30)])  # Wed, Mon
    args = {
        "dispositivo_id": temperatura.pk,
        "start": local(2026, 3, 25),
        "end": local(2026, 4, 20),
        "bucket": timedelta(days=7),
    }
    points = readings_series_for_device(conta_id=conta_a.pk, **args)
    assert [(p.bucket, p.n, p.media) for p in points] == [
        (local(2026, 3, 30), 1, D(20)),
        (local(2026, 4, 6), 1, D(30)),
    ]
    assert readings_series_for_device(conta_id=conta_b.pk, **args) == []


def test_latest_readings_of_an_account_with_codes(conta_a, energia, temperatura, store):
    base = utc(2026, 5, 1, 12, 0)
    store(energia, [(base + timedelta(minutes=i), i) for i in range(5)])
    store(temperatura, [(base + timedelta(minutes=i, seconds=30), 20 + i) for i in range(5)])

    latest = latest_readings_for_conta(conta_id=conta_a.pk, limit=3)

    assert [(r.time, r.valor, r.dispositivo_codigo, r.gateway_codigo) for r in latest] == [
        (base + timedelta(minutes=4, seconds=30), D(24), "D02", "GW-A"),
        (base + timedelta(minutes=4), D(4), "D01", "GW-A"),
        (base + timedelta(minutes=3, seconds=30), D(23), "D02", "GW-A"),
    ]


def test_another_accounts_device_yields_nothing(conta_a, conta_b, energia, store):
    store(energia, MONTH_BOUNDARY)
    refresh_rollups()
    args = {"start": local(2026, 1, 1), "end": local(2026, 3, 1), "dispositivo_id": energia.pk}

    assert readings_series_for_device(conta_id=conta_b.pk, bucket=MONTH, **args) == []
    assert readings_series_for_device(conta_id=conta_b.pk, bucket=DAY, **args) == []
    assert (
        consumption_by_month(
            conta_id=conta_b.pk,
            start=date(2026, 1, 1),
            end=date(2026, 4, 1),
            dispositivo_ids=[energia.pk],
        )
        == []
    )
    assert latest_readings_for_conta(conta_id=conta_b.pk) == []
    # ...while the owner sees them.
    assert len(latest_readings_for_conta(conta_id=conta_a.pk)) == len(MONTH_BOUNDARY)


def daily_points(conta, dispositivo, start, end):
    return [
        (p.bucket, p.n, p.soma, p.minimo, p.maximo, p.primeiro, p.ultimo)
        for p in readings_series_for_device(
            conta_id=conta.pk, dispositivo_id=dispositivo.pk, start=start, end=end, bucket=DAY
        )
    ]


def test_readings_after_a_refresh_extend_the_stored_day(conta_a, energia, store):
    """The usual flow: a day refreshed at noon, then more readings of that day in order
    (one of them a counter reset right after the stored last value)."""
    store(energia, [(local(2026, 1, 31, 9, 0), 80), (local(2026, 2, 10, 8, 0), 100)])
    store(energia, [(local(2026, 2, 10, 12, 0), 110)])
    refresh_rollups()
    store(energia, [(local(2026, 2, 10, 13, 0), 3)])  # backwards (a swap): counts 0
    store(energia, [(local(2026, 2, 10, 14, 0), 9), (local(2026, 2, 10, 15, 0), 12)])

    def check():
        # Jan: 80. Feb: (100 - 80) + (110 - 100) + 0 + (9 - 3) + (12 - 9).
        assert consumo(conta_a, energia) == {date(2026, 1, 1): D(0), date(2026, 2, 1): D(39)}
        assert daily_points(conta_a, energia, local(2026, 2, 10), local(2026, 2, 11)) == [
            (local(2026, 2, 10), 5, D(234), D(3), D(110), D(100), D(12)),
        ]

    both_ways(check)


def test_late_and_in_order_readings_of_a_refreshed_day_in_one_batch(conta_a, energia, store):
    store(energia, [(local(2026, 2, 10, 10, 0), 100), (local(2026, 2, 10, 12, 0), 120)])
    refresh_rollups()
    # One batch: a late reading between the stored ones, and one after them.
    store(energia, [(local(2026, 2, 10, 11, 0), 105), (local(2026, 2, 10, 13, 0), 130)])

    def check():
        assert consumo(conta_a, energia) == {date(2026, 2, 1): D(30)}
        assert daily_points(conta_a, energia, local(2026, 2, 10), local(2026, 2, 11)) == [
            (local(2026, 2, 10), 4, D(455), D(100), D(130), D(100), D(130)),
        ]

    both_ways(check)


def test_a_late_reading_alone_before_the_stored_last_value(conta_a, energia, store):
    store(energia, [(local(2026, 2, 10, 10, 0), 100), (local(2026, 2, 10, 12, 0), 120)])
    refresh_rollups()
    store(energia, [(local(2026, 2, 10, 11, 0), 90)])  # late, and lower: backwards in time order

    def check():
        # 100 -> 90 is backwards and not a rollover (0), then 90 -> 120.
        assert consumo(conta_a, energia) == {date(2026, 2, 1): D(30)}
        assert daily_points(conta_a, energia, local(2026, 2, 10), local(2026, 2, 11)) == [
            (local(2026, 2, 10), 3, D(310), D(90), D(120), D(100), D(120)),
        ]

    both_ways(check)


def test_batches_spanning_hours_and_redelivered_after_a_refresh(conta_a, energia, store):
    store(energia, [(local(2026, 2, 10, 10, 0), 100)])
    refresh_rollups()
    # Several hours in one batch, then a redelivery holding a new reading (staging path).
    store(energia, [(local(2026, 2, 10, h, 0), 100 + h) for h in (11, 13, 15)])
    result = store(energia, [(local(2026, 2, 10, 15, 0), 115), (local(2026, 2, 10, 16, 0), 120)])
    assert (result.inserted, result.duplicates) == (1, 1)

    def check():
        assert consumo(conta_a, energia) == {date(2026, 2, 1): D(20)}
        assert daily_points(conta_a, energia, local(2026, 2, 10), local(2026, 2, 11)) == [
            (local(2026, 2, 10), 5, D(559), D(100), D(120), D(100), D(120)),
        ]

    both_ways(check)


def test_latest_readings_order_is_served_by_an_index(conta_a, energia, store):
    """ "Latest readings" orders by time, then device id; the account's index carries both
    (migration 0006), so a page of 50 among thousands of meters sharing the newest instant
    is read in order, not sorted (80,000 rows on bench/big_account.py --full)."""
    from django.db import connection, transaction

    from telemetria.storage.tables import READINGS

    # a stored reading: a TimescaleDB hypertable without chunks plans a sort of nothing
    store(energia, [(utc(2026, 5, 1, 12, 0), 1)])
    with transaction.atomic(), connection.cursor() as cur:
        # few rows here: forbid the scan-and-sort a tiny table would get, to see the plan
        # the index allows
        for setting in ("enable_seqscan", "enable_sort", "enable_incremental_sort"):
            cur.execute(f"SET LOCAL {setting} = off")
        cur.execute(
            f"EXPLAIN SELECT time, dispositivo_id FROM {READINGS}"
            " WHERE conta_id = %s AND time >= %s ORDER BY time DESC, dispositivo_id LIMIT 50",
            [conta_a.pk, utc(2025, 1, 1)],
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Sort  (cost" not in plan, plan  # no Sort / Incremental Sort node (a Merge
    # Append of the partitions, with its "Sort Key", reads them each in index order)

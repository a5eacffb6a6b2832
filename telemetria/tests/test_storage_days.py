"""consumption_by_day / consumption_by_date_ranges (billing periods of whole local days) on known
data computed by hand; each check runs before and after the rollup job."""

from datetime import date
from decimal import Decimal as D

import pytest

from tds_testing.readings import local, utc
from telemetria.storage import (
    consumption_by_date_ranges,
    consumption_by_day,
    consumption_by_month,
    refresh_rollups,
)

from .test_storage_queries import MONTH_BOUNDARY, both_ways

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]


def test_periods_from_the_10th_add_up_and_match_months(conta_a, energia, store):
    store(energia, MONTH_BOUNDARY)

    def check():
        periods = consumption_by_date_ranges(
            conta_id=conta_a.pk,
            boundaries=[date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)],
            dispositivo_ids=[energia.pk],
        )
        # Jan 10 → Feb 9: 130 - 100 + 131 - 130. Feb 10 → Mar 9: 19 + 5 (reset) + 20 + 15.
        assert [(p.inicio, p.fim, p.consumo, p.n, p.dias_com_leitura) for p in periods] == [
            (date(2026, 1, 10), date(2026, 2, 10), D(31), 3, 3),
            (date(2026, 2, 10), date(2026, 3, 10), D(59), 4, 4),
        ]
        assert periods[-1].ultima_leitura == local(2026, 3, 2, 8, 0)
        # Calendar months through the same function equal consumption_by_month's.
        months = consumption_by_date_ranges(
            conta_id=conta_a.pk,
            boundaries=[date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)],
        )
        by_month = consumption_by_month(
            conta_id=conta_a.pk, start=date(2026, 1, 1), end=date(2026, 4, 1)
        )
        assert [p.consumo for p in months] == [m.consumo for m in by_month]

    both_ways(check)


def test_days_count_the_step_from_the_previous_reading(conta_a, energia, store):
    store(
        energia,
        [
            (local(2026, 3, 8, 12, 0), 100),
            (local(2026, 3, 10, 10, 0), 110),
            (local(2026, 3, 10, 12, 0), 3),  # reset inside the day: 3 from zero
            (utc(2026, 3, 11, 2, 0), 9),  # 23:00 local on the 10th
            (local(2026, 3, 11, 6, 0), 12),
        ],
    )

    def check():
        days = consumption_by_day(
            conta_id=conta_a.pk, start=date(2026, 3, 10), end=date(2026, 3, 12)
        )
        assert [(d.dia, d.consumo, d.n) for d in days] == [
            (date(2026, 3, 10), D(19), 3),  # 10 from the 8th + 3 + 6
            (date(2026, 3, 11), D(3), 1),
        ]

    both_ways(check)


def test_another_accounts_devices_yield_nothing(conta_a, conta_b, energia, store):
    store(energia, MONTH_BOUNDARY)
    assert (
        consumption_by_date_ranges(
            conta_id=conta_b.pk,
            boundaries=[date(2026, 1, 1), date(2026, 4, 1)],
            dispositivo_ids=[energia.pk],
        )
        == []
    )
    assert (
        consumption_by_day(conta_id=conta_b.pk, start=date(2026, 1, 1), end=date(2026, 4, 1)) == []
    )
    refresh_rollups()

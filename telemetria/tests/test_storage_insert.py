from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from tds_testing.readings import row, utc
from telemetria.models import LeituraDispositivo
from telemetria.storage import InsertResult, insert_readings

pytestmark = pytest.mark.django_db


def stored(dispositivo):
    return list(
        LeituraDispositivo.objects.filter(dispositivo=dispositivo)
        .order_by("time")
        .values_list("time", "valor")
    )


def test_insert_counts_and_stores_every_field(energia):
    t0 = utc(2026, 3, 10, 12, 0)
    payload = {"gateway_mac": "02:00:00:00:00:01", "raw": 12345}
    result = insert_readings(
        [row(energia, t0, "1.5", payload), row(energia, t0 + timedelta(minutes=5), 2)]
    )

    assert result == InsertResult(inserted=2, duplicates=0)
    first = LeituraDispositivo.objects.filter(dispositivo=energia).order_by("time").first()
    assert (first.time, first.valor, first.unidade, first.payload_raw) == (
        t0,
        Decimal("1.5000"),
        "kWh",
        payload,
    )
    assert (first.conta_id, first.gateway_id) == (energia.conta_id, energia.gateway_id)


def test_duplicates_in_batch_and_already_stored_are_counted_not_stored(energia):
    t0 = utc(2026, 3, 10, 12, 0)
    assert insert_readings([row(energia, t0, 10), row(energia, t0, 99)]) == InsertResult(1, 1)
    # Redelivery of the same reading plus one new one.
    again = insert_readings([row(energia, t0, 10), row(energia, t0 + timedelta(minutes=1), 11)])

    assert again == InsertResult(inserted=1, duplicates=1)
    assert [v for _, v in stored(energia)] == [Decimal(10), Decimal(11)]  # first write wins


def test_runs_in_the_callers_transaction(energia):
    t0 = utc(2026, 3, 10, 12, 0)

    def failing_caller():
        with transaction.atomic():
            assert insert_readings([row(energia, t0, 1)]).inserted == 1
            raise RuntimeError("the caller's transaction fails after the insert")

    with pytest.raises(RuntimeError):
        failing_caller()

    assert stored(energia) == []
    # Two batches in one transaction (staging table reused) both land.
    with transaction.atomic():
        insert_readings([row(energia, t0, 1)])
        insert_readings([row(energia, t0 + timedelta(minutes=1), 2)])
    assert len(stored(energia)) == 2


def test_readings_far_in_the_past_or_future_are_accepted(energia):
    past, future = utc(1999, 1, 1, 0, 0), utc(2090, 6, 1, 0, 0)

    assert insert_readings([row(energia, past, 1), row(energia, future, 2)]).inserted == 2
    assert [t for t, _ in stored(energia)] == [past, future]


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("time", {"time": utc(2026, 1, 1).replace(tzinfo=None)}),
        ("valor", {"valor": Decimal("1e12")}),
        ("valor", {"valor": Decimal("NaN")}),
        ("unidade", {"unidade": "x" * 17}),
    ],
)
def test_bad_row_names_the_field_and_writes_nothing(energia, field, change):
    good = row(energia, utc(2026, 3, 10, 12, 0), 1)
    bad = row(energia, utc(2026, 3, 10, 12, 5), 1)._replace(**change)

    with pytest.raises(ValueError, match=f"^{field}:"):
        insert_readings([good, bad])
    assert stored(energia) == []


def test_uses_djangos_connection(energia):
    """The consumer relies on the insert sharing Django's connection (and transaction)."""
    with transaction.atomic():
        insert_readings([row(energia, utc(2026, 3, 10, 12, 0), 1)])
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM tds_new_leitura_dispositivo WHERE dispositivo_id = %s",
                [energia.pk],
            )
            assert cur.fetchone()[0] == 1

"""The device page (registry) shows the device's consumption by day and month, its latest
readings and its meter events."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tds_testing.readings import local, store_points
from telemetria.storage import consumption_by_day, refresh_rollups

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_store")]


def test_device_page_shows_consumption_readings_and_a_restart_event(
    client, admin_a, conta_a, energia
):
    day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    store_points(
        energia,
        [
            (day - timedelta(hours=3), D("700.00")),
            (day - timedelta(hours=2), D("709.32")),
            (day - timedelta(hours=1), D("701.77")),  # the simulator restarted
            (day + timedelta(minutes=1), D("702.77")),
        ],
    )
    refresh_rollups()
    client.force_login(admin_a)
    page = client.get(reverse("dispositivos:dispositivo_detail", args=[energia.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Recuo do contador" in html
    assert "709,32 → 701,77 kWh" in html
    dias = page.context["panels"]["dispositivo_telemetry"][0]["context"]["overview"]["dias"]
    assert [c.consumo for _d, c in dias] == [D("1.00"), D("9.32")]  # today, yesterday
    assert "702,77 kWh" in html  # latest readings


def test_another_accounts_device_page_is_404(client, admin_b, energia):
    client.force_login(admin_b)
    page = client.get(reverse("dispositivos:dispositivo_detail", args=[energia.pk]))
    assert page.status_code == 404


def _serie(client, dispositivo, **params):
    url = reverse("telemetria:api_serie", args=[dispositivo.pk])
    return client.get(url, {"periodo": "custom", **params}).json()


def test_series_points_carry_their_billable_consumption(
    client, admin_a, energia, agua_intervalo, temperatura
):
    """Each point's `consumo` follows the rule of the day and month figures: a 16-bit
    register of 0.01 kWh wraps at 655.36 kWh (a rollover counts), a small step back counts
    zero, the first step comes from the reading before the range."""
    energia.registro_maximo = 65535
    energia.fator_conversao = D("0.01")
    energia.save()
    store_points(
        energia,
        [
            (local(2026, 3, 9, 23, 0), D("645.50")),  # before the range
            (local(2026, 3, 10, 1, 0), D("650.20")),  # +4.70
            (local(2026, 3, 10, 2, 0), D("3.10")),  # rollover: 655.36 - 650.20 + 3.10 = 8.26
            (local(2026, 3, 10, 3, 0), D("1.00")),  # a step back far from the maximum: 0
            (local(2026, 3, 10, 4, 0), D("4.00")),  # +3.00
        ],
    )
    store_points(agua_intervalo, [(local(2026, 3, 10, 1, 0), 2), (local(2026, 3, 10, 2, 0), 5)])
    store_points(temperatura, [(local(2026, 3, 10, 1, 0), D("22.5"))])
    client.force_login(admin_a)
    day = {"inicio": "2026-03-10", "fim": "2026-03-11"}
    data = _serie(client, energia, **day)
    assert [(p["last"], p["consumo"]) for p in data["pontos"]] == [
        ("650.2000", "4.7000"),
        ("3.1000", "8.2600"),
        ("1.0000", "0.0000"),
        ("4.0000", "3.0000"),
    ]
    # The same rule as the day's figure (4.70 + 8.26 + 0 + 3.00).
    (dia,) = consumption_by_day(
        conta_id=energia.conta_id,
        start=date(2026, 3, 10),
        end=date(2026, 3, 11),
        dispositivo_ids=[energia.pk],
    )
    assert dia.consumo == D("15.96")
    assert [p["consumo"] for p in _serie(client, agua_intervalo, **day)["pontos"]] == [
        "2.0000",
        "5.0000",
    ]
    assert [p["consumo"] for p in _serie(client, temperatura, **day)["pontos"]] == [None]


def test_values_keep_the_meters_precision_and_months_are_named(client, admin_a, conta_a, energia):
    """A raw register × 0.01 reads to the hundredth: 702,70 kWh, not 702,7."""
    energia.fator_conversao = D("0.01")
    energia.save()
    now = timezone.localtime()
    store_points(
        energia,
        [(now - timedelta(hours=2), D("700.00")), (now - timedelta(hours=1), D("702.70"))],
    )
    client.force_login(admin_a)
    page = client.get(reverse("dispositivos:dispositivo_detail", args=[energia.pk]))
    html = page.content.decode()
    assert "702,70 kWh" in html
    assert "2,70 kWh" in html  # the consumption, to the same precision
    months = page.context["panels"]["dispositivo_telemetry"][0]["context"]["overview"]["meses"]
    assert months[0][0] == now.date().replace(day=1)  # newest first
    assert len(months) == 6
    assert date_format(months[0][0], "F \\d\\e Y") in html


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    ("valor", "fator", "shown"),
    [
        ("702.7000", "0.010000", "702,70"),  # raw × 0.01: to the hundredth
        ("12345.678", "1", "12.345,678"),  # the value's own places
        ("1.5", "0.001234", "1,5000"),  # at most the 4 places readings are stored with
        ("15.960000", "1", "15,96"),  # a consumption: no trailing zeros beyond the factor's
        ("100", "1", "100"),
    ],
)
def test_medida_shows_the_meters_precision(valor, fator, shown):
    from types import SimpleNamespace

    from django.utils import translation

    from telemetria.templatetags.telemetria_tags import medida

    with translation.override("pt-br"):
        assert medida(D(valor), SimpleNamespace(fator_conversao=D(fator))) == shown

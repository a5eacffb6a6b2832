"""The device page (registry) shows the device's consumption by day and month, its latest
readings and its meter events."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from tds_testing.readings import store_points
from telemetria.storage import refresh_rollups

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

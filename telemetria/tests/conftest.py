"""Telemetry fixtures: a gateway with an energy meter and a thermometer, and readings
stored through the storage API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tds_testing import factories
from telemetria.storage import ReadingRow, insert_readings


def store(dispositivo, points):
    """points: [(aware datetime, value)]."""
    insert_readings(
        [
            ReadingRow(
                time=t,
                conta_id=dispositivo.conta_id,
                gateway_id=dispositivo.gateway_id,
                dispositivo_id=dispositivo.pk,
                valor=Decimal(str(v)),
                unidade=dispositivo.unidade,
                payload_raw=None,
            )
            for t, v in points
        ]
    )


@pytest.fixture
def planta_a(conta_a):
    """Gateway with an energy meter (cumulative kWh) and a thermometer, 2 h of readings
    every minute up to now."""
    gw = factories.make_gateway(conta=conta_a, codigo="GW-A1", nome="Casa de máquinas")
    energia = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    temp = factories.make_dispositivo(gateway=gw, codigo="D02", tipo="TEMP")
    now = timezone.now().replace(second=0, microsecond=0)
    minutes = [now - dt.timedelta(minutes=m) for m in range(120, -1, -1)]
    store(energia, [(t, 1000 + i * 0.5) for i, t in enumerate(minutes)])
    store(temp, [(t, 20 + (i % 10) / 10) for i, t in enumerate(minutes)])
    return {"gateway": gw, "energia": energia, "temp": temp, "now": now}


@pytest.fixture
def planta_b(conta_b):
    gw = factories.make_gateway(conta=conta_b, codigo="GW-B1")
    energia = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    store(energia, [(timezone.now() - dt.timedelta(minutes=1), 777)])
    return {"gateway": gw, "energia": energia}

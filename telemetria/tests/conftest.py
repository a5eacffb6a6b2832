"""Fixtures of the telemetria tests: the storage tests' account with meters of each kind,
and the dashboard tests' plants with recent readings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tds_testing import factories
from tds_testing.readings import store_points


@pytest.fixture
def gateway_a(conta_a):
    return factories.make_gateway(conta=conta_a, codigo="GW-A")


@pytest.fixture
def energia(gateway_a):
    """A cumulative energy meter (kWh register)."""
    return factories.make_dispositivo(gateway=gateway_a, codigo="D01", tipo="ENERGIA")


@pytest.fixture
def temperatura(gateway_a):
    return factories.make_dispositivo(gateway=gateway_a, codigo="D02", tipo="TEMP")


@pytest.fixture
def agua_intervalo(gateway_a):
    """A water meter that reports the volume of each interval (consumption = sum)."""
    return factories.make_dispositivo(
        gateway=gateway_a, codigo="D03", tipo="AGUA", tipo_medidor="INTERVALO"
    )


@pytest.fixture
def store():
    """store(dispositivo, [(time, valor), ...]) -> InsertResult"""
    return store_points


# ---- dashboard fixtures (H5): a plant with 2 h of minutely readings up to now ----


@pytest.fixture
def planta_a(conta_a):
    """Gateway with an energy meter (cumulative kWh) and a thermometer, 2 h of readings
    every minute up to now."""
    gw = factories.make_gateway(conta=conta_a, codigo="GW-A1", nome="Casa de máquinas")
    energia = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    temp = factories.make_dispositivo(gateway=gw, codigo="D02", tipo="TEMP")
    now = timezone.now().replace(second=0, microsecond=0)
    minutes = [now - timedelta(minutes=m) for m in range(120, -1, -1)]
    store_points(energia, [(t, 1000 + i * 0.5) for i, t in enumerate(minutes)])
    store_points(temp, [(t, 20 + (i % 10) / 10) for i, t in enumerate(minutes)])
    return {"gateway": gw, "energia": energia, "temp": temp, "now": now}


@pytest.fixture
def planta_b(conta_b):
    gw = factories.make_gateway(conta=conta_b, codigo="GW-B1")
    energia = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    store_points(energia, [(timezone.now() - timedelta(minutes=1), 777)])
    return {"gateway": gw, "energia": energia}

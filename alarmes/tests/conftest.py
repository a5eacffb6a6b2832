"""Fixtures of the alarm tests (helpers that tests import live in tds_testing.alarms)."""

from decimal import Decimal

import pytest

from alarmes import services
from tds_testing import factories
from tds_testing.readings import local


@pytest.fixture
def gw(conta_a):
    return factories.make_gateway(conta=conta_a, codigo="GW-A")


@pytest.fixture
def temp(gw):
    return factories.make_dispositivo(gateway=gw, codigo="T01", tipo="TEMP")


@pytest.fixture
def energia(gw):
    return factories.make_dispositivo(gateway=gw, codigo="E01", tipo="ENERGIA")


@pytest.fixture
def agua(gw):
    return factories.make_dispositivo(gateway=gw, codigo="A01", tipo="AGUA")


@pytest.fixture
def rule(conta_a):
    def make(**data):
        data.setdefault("nome", f"Regra {data.get('tipo', 'limite')}")
        data.setdefault("tipo", "limite")
        return services.regra_create(conta=conta_a, **data)

    return make


@pytest.fixture
def b_objects(conta_b):
    """Another account's device, rule and open alarm (for the 404 tests)."""
    gw = factories.make_gateway(conta=conta_b)
    disp = factories.make_dispositivo(gateway=gw, tipo="TEMP")
    regra = services.regra_create(
        conta=conta_b, nome="B", tipo="limite", dispositivo=disp, limite_superior=Decimal(1)
    )
    alarme = services.alarm_fire(
        regra=regra, gateway_id=gw.pk, dispositivo_id=disp.pk, inicio=local(2026, 3, 1, 10, 0)
    )
    return {"disp": disp, "regra": regra, "alarme": alarme}

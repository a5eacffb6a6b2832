"""Fixtures for the storage tests: one account with a gateway and meters of each kind."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tds_testing import factories
from telemetria.storage import ReadingRow, insert_readings


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


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def row(dispositivo, time, valor, payload=None) -> ReadingRow:
    return ReadingRow(
        time=time,
        conta_id=dispositivo.conta_id,
        gateway_id=dispositivo.gateway_id,
        dispositivo_id=dispositivo.pk,
        valor=Decimal(str(valor)),
        unidade=dispositivo.unidade,
        payload_raw=payload,
    )


@pytest.fixture
def store():
    """store(dispositivo, [(time, valor), ...]) -> InsertResult"""

    def _store(dispositivo, points):
        return insert_readings([row(dispositivo, t, v) for t, v in points])

    return _store

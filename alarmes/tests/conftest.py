"""Alarm test helpers: meters of each kind, readings stored through the storage API and
handed to the engine as the consumer does after commit."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from alarmes import engine, services
from alarmes.models import Alarme
from tds_testing import factories
from telemetria.storage import ReadingRow, insert_readings
from telemetria.tests.test_browser import browser, uvicorn_server  # noqa: F401  (fixtures)

SP = ZoneInfo("America/Sao_Paulo")


def local(*args) -> datetime:
    """A wall-clock time in America/Sao_Paulo (settings.TIME_ZONE)."""
    return datetime(*args, tzinfo=SP)


def row(dispositivo, time, valor) -> ReadingRow:
    return ReadingRow(
        time=time,
        conta_id=dispositivo.conta_id,
        gateway_id=dispositivo.gateway_id,
        dispositivo_id=dispositivo.pk,
        valor=Decimal(str(valor)),
        unidade=dispositivo.unidade,
        payload_raw=None,
    )


def ingest(dispositivo, points) -> int:
    """Store [(time, valor)] and evaluate them as the consumer does after its commit."""
    rows = [row(dispositivo, t, v) for t, v in points]
    insert_readings(rows)
    return engine.evaluate_committed_readings(rows, cache=engine.RuleCache())


def alarms(regra):
    return list(Alarme.objects.filter(regra=regra).order_by("inicio", "id"))


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

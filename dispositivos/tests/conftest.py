import pytest

from tds_testing import factories


@pytest.fixture
def registry_a(conta_a):
    """Account A's gateway with one device."""
    gw = factories.make_gateway(conta=conta_a, codigo="GW-A", nome="Gateway Aurora")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", nome="Quadro Aurora")
    return gw, d

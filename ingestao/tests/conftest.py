import pytest

from ingestao.worker import IngestWorker, WorkerOptions
from tds_testing import factories


@pytest.fixture
def planta(conta_a):
    """A gateway with two energy meters (D01 valor, D02 raw × 0.01) and a water meter."""
    gw = factories.make_gateway(conta=conta_a, codigo="GW-ING")
    d1 = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    d2 = factories.make_dispositivo(
        gateway=gw, codigo="D02", tipo="ENERGIA", fator_conversao="0.01"
    )
    d3 = factories.make_dispositivo(gateway=gw, codigo="D03", tipo="AGUA")
    return {"gateway": gw, "devices": [d1, d2, d3], "conta": conta_a}


@pytest.fixture
def worker(planta):
    """An in-process worker (no broker connection) with the registry loaded."""
    w = IngestWorker(WorkerOptions(url="mqtt://127.0.0.1:1", client_id="t"))
    w.registry.reload()
    return w


@pytest.fixture
def logfile(tmp_path):
    return tmp_path / "consumer.log"

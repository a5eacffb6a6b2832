import pytest
from django.core.management import call_command

from tds_testing import factories


@pytest.fixture
def pki_dir(tmp_path, settings):
    """A fresh platform CA in a temporary TDS_PKI_DIR; no broker reload configured."""
    settings.TDS_PKI_DIR = tmp_path / "pki"
    settings.TDS_MOSQUITTO_DIR = ""
    settings.TDS_MOSQUITTO_PID_FILE = ""
    settings.TDS_MOSQUITTO_RELOAD_CMD = ""
    call_command("pki_init")
    return settings.TDS_PKI_DIR


@pytest.fixture
def gateway_a(conta_a):
    return factories.make_gateway(conta=conta_a, codigo="GW-A", mac="AA-BB-CC-00-00-01")


@pytest.fixture
def gateway_b(conta_b):
    return factories.make_gateway(conta=conta_b, codigo="GW-B", mac="aa:bb:cc:00:00:02")

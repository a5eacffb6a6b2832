import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
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


def make_csr(cn: str, key=None) -> tuple[bytes, object]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM), key


@pytest.fixture
def as_role(client, conta_a):
    from contas.models import Role

    def login(role):
        user = factories.make_member(conta=conta_a, role=Role(role)).user
        client.force_login(user)
        return client

    return login

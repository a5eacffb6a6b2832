"""The NATS users list generated from the registry (certificados/nats.py): who may connect
and where each gateway may publish. The server-side effect is tested with a real
nats-server in ingestao/tests/test_nats.py."""

import pytest

from certificados import nats
from certificados.models import RevocationReason
from certificados.mosquitto import CONSUMER_CN
from certificados.services import certificado_issue, certificado_revoke
from dispositivos.services import gateway_update

pytestmark = pytest.mark.django_db


def test_users_are_the_active_gateways_with_a_usable_certificate(pki_dir, gateway_a, gateway_b):
    assert nats.gateway_identities() == []  # no certificate yet: nobody
    cert_a = certificado_issue(gateway=gateway_a).certificado
    certificado_issue(gateway=gateway_b)
    assert nats.gateway_identities() == sorted([gateway_a.mac, gateway_b.mac])

    auth = nats.render_auth(nats.gateway_identities())
    assert f'user: "CN={gateway_a.mac}"' in auth
    assert (
        f'"tds_new.devices.{gateway_a.mac}.telemetry", "tds_new.devices.{gateway_a.mac}.status"'
        in auth
    )
    assert f'user: "CN={CONSUMER_CN}"' in auth  # the consumer, JetStream API only

    certificado_revoke(certificado=cert_a, reason=RevocationReason.KEY_COMPROMISE)
    assert nats.gateway_identities() == [gateway_b.mac]
    gateway_update(gateway=gateway_b, is_active=False)
    assert nats.gateway_identities() == []


def test_registry_changes_rewrite_auth_conf(
    pki_dir, gateway_a, tmp_path, settings, django_capture_on_commit_callbacks
):
    """The signals: issuing, revoking, deactivating rewrite auth.conf after commit."""
    settings.TDS_NATS_DIR = str(tmp_path)
    settings.TDS_NATS_RELOAD_CMD = ""
    auth = tmp_path / "auth.conf"
    with django_capture_on_commit_callbacks(execute=True):
        cert = certificado_issue(gateway=gateway_a).certificado
    assert f"CN={gateway_a.mac}" in auth.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        gateway_update(gateway=gateway_a, is_active=False)
    assert gateway_a.mac not in auth.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        gateway_update(gateway=gateway_a, is_active=True)
    assert gateway_a.mac in auth.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        certificado_revoke(certificado=cert, reason=RevocationReason.SUPERSEDED)
    assert gateway_a.mac not in auth.read_text()

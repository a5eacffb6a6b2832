"""The NATS users list generated from the registry (certificados/nats.py): who may connect
and where each gateway may publish. The server-side effect is tested with a real
nats-server in ingestao/tests/test_nats.py."""

import pytest
from cryptography import x509

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
    assert f"tds_new.devices.{gateway_a.mac}.telemetry" in auth.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        gateway_update(gateway=gateway_a, is_active=False)
    assert gateway_a.mac not in auth.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        gateway_update(gateway=gateway_a, is_active=True)
    assert gateway_a.mac in auth.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        certificado_revoke(certificado=cert, reason=RevocationReason.SUPERSEDED)
    assert gateway_a.mac not in auth.read_text()


def test_each_certificate_is_its_own_user(pki_dir, gateway_a):
    """A certificate issued here carries its own URI name, which is its NATS user: revoking
    one of a gateway's two certificates removes that one only. An older certificate without
    the URI maps to the gateway's subject."""
    from django_scopes import scopes_disabled

    from certificados.models import CertificadoDevice
    from certificados.pki import ca as pki

    first = certificado_issue(gateway=gateway_a).certificado
    second = certificado_issue(gateway=gateway_a).certificado
    uri = {
        c.pk: pki.certificate_uris(x509.load_pem_x509_certificate(c.certificado_pem.encode()))
        for c in (first, second)
    }
    assert uri[first.pk] == [f"urn:tds-new:certificado:{first.serial}"]
    assert nats.gateway_users() == sorted(
        [(uri[first.pk][0], gateway_a.mac), (uri[second.pk][0], gateway_a.mac)]
    )
    # (not KEY_COMPROMISE: that one also deactivates the gateway, every user goes)
    certificado_revoke(certificado=first, reason=RevocationReason.SUPERSEDED)
    assert nats.gateway_users() == [(uri[second.pk][0], gateway_a.mac)]
    auth = nats.render_auth(nats.gateway_users())
    assert f'user: "{uri[second.pk][0]}"' in auth
    assert uri[first.pk][0] not in auth
    assert f'"CN={gateway_a.mac}"' not in auth  # the revoked one cannot fall back to its CN

    # A certificate issued before the URI names (signed without one): the subject is the user.
    ca = pki.ca_load(pki_dir)
    key = pki.new_key()
    old = pki.sign_leaf(ca=ca, public_key=key.public_key(), common_name=gateway_a.mac, days=30)
    with scopes_disabled():
        CertificadoDevice.objects.filter(pk=second.pk).update(
            certificado_pem=pki.cert_pem(old).decode()
        )
    assert nats.gateway_users() == [(f"CN={gateway_a.mac}", gateway_a.mac)]

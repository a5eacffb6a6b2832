"""Issue 12 item 2: a certificate does not outlive its MAC.

Before: editing a gateway's MAC left its certificate valid and out of the CRL; another
account registering the old MAC then received what that certificate published.
Choice: the MAC change revokes (superseded) instead of being refused while certificates
are live. The certificate names the old MAC, so after the change it can no longer speak
for this gateway anyway; refusing would only make the user revoke by hand first.
"""

import time

import pytest
from cryptography import x509
from django.core.exceptions import ValidationError
from django_scopes import scope, scopes_disabled

from certificados import services
from certificados.models import CertificadoDevice
from certificados.pki import ca as pki
from dispositivos import services as registry
from dispositivos.models import Gateway

from .broker_util import GeneratedBroker, payload

pytestmark = pytest.mark.django_db
OLD_MAC = "aa:bb:cc:00:00:01"
NEW_MAC = "aa:bb:cc:00:00:99"


def _crl_serials(pki_dir) -> set[int]:
    return {r.serial_number for r in x509.load_pem_x509_crl((pki_dir / "crl.pem").read_bytes())}


def test_changing_the_mac_revokes_live_certificates_and_publishes_the_crl_after_commit(
    pki_dir, gateway_a, django_capture_on_commit_callbacks
):
    live = services.certificado_issue(gateway=gateway_a).certificado
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registry.gateway_update(gateway=gateway_a, mac=NEW_MAC)
    assert int(live.serial, 16) not in _crl_serials(pki_dir)  # not before the commit
    for callback in callbacks:
        callback()
    assert int(live.serial, 16) in _crl_serials(pki_dir)
    with scopes_disabled():
        live.refresh_from_db()
    assert (live.status, live.revocation_reason) == ("revoked", "superseded")


def test_an_edit_that_keeps_the_mac_keeps_the_certificate(pki_dir, gateway_a):
    live = services.certificado_issue(gateway=gateway_a).certificado
    registry.gateway_update(gateway=gateway_a, nome="outro nome", mac="AA-BB-CC-00-00-01")
    with scopes_disabled():
        live.refresh_from_db()
    assert live.revoked_at is None


def test_a_mac_with_a_live_certificate_of_another_account_cannot_be_registered(
    pki_dir, gateway_a, conta_b
):
    services.certificado_issue(gateway=gateway_a)
    # A MAC left with a live certificate (as the old code did on a MAC change).
    with scopes_disabled():
        Gateway.objects.filter(pk=gateway_a.pk).update(mac=NEW_MAC)
    with scope(conta=conta_b), pytest.raises(ValidationError) as exc:
        registry.gateway_create(conta=conta_b, codigo="GW-X", nome="X", mac=OLD_MAC)
    assert "certificado válido emitido para outra conta" in str(exc.value.message_dict["mac"])
    with scopes_disabled():
        assert not Gateway.objects.filter(conta=conta_b).exists()
        # The owner account itself may take it back.
        registry.gateway_update(gateway=Gateway.objects.get(pk=gateway_a.pk), mac=OLD_MAC)


def test_the_old_certificate_is_refused_by_the_broker_after_a_mac_change(
    pki_dir, gateway_a, conta_b, tmp_path, settings, django_capture_on_commit_callbacks
):
    broker = GeneratedBroker(tmp_path / "broker")
    settings.TDS_MOSQUITTO_DIR = str(broker.out)
    broker.start()
    try:
        issued = services.certificado_issue(gateway=gateway_a)
        crt, key = tmp_path / "old.crt", tmp_path / "old.key"
        crt.write_text(issued.certificado.certificado_pem)
        pki.write_private(key, issued.key_pem)
        topic = f"tds_new/devices/{OLD_MAC}/telemetry"
        assert broker.publish(topic=topic, payload=payload(OLD_MAC), cert=crt, key=key) == 0
        with django_capture_on_commit_callbacks(execute=True):
            registry.gateway_update(gateway=gateway_a, mac=NEW_MAC)
        # Another account may now register the old MAC, and the old certificate is out.
        with scope(conta=conta_b):
            registry.gateway_create(conta=conta_b, codigo="GW-X", nome="X", mac=OLD_MAC)
        deadline = time.monotonic() + 5
        while broker.publish(topic=topic, payload=payload(OLD_MAC), cert=crt, key=key) == 0:
            assert time.monotonic() < deadline, "the old certificate is still accepted"
            time.sleep(0.1)
    finally:
        broker.stop()
    with scopes_disabled():
        assert CertificadoDevice.objects.get().revocation_reason == "superseded"

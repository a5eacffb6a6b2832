"""Issue 12 item 3: revoked serials stay in the CRL whatever is deleted.

Before, the CRL was built from CertificadoDevice rows, which cascade away with their
account (and could be deleted from the admin): the serial left the CRL and the broker
accepted the certificate again.
"""

import pytest
from cryptography import x509
from django.urls import reverse
from django_scopes import scopes_disabled

from certificados import services
from certificados.models import CertificadoDevice, Revogacao
from contas.models import CustomUser

pytestmark = pytest.mark.django_db


def _crl_serials(pki_dir) -> set[int]:
    crl = x509.load_pem_x509_crl((pki_dir / "crl.pem").read_bytes())
    return {r.serial_number for r in crl}


def test_deleting_an_account_keeps_its_revoked_and_live_serials_in_the_crl(
    pki_dir, gateway_a, gateway_b, django_capture_on_commit_callbacks
):
    revoked = services.certificado_issue(gateway=gateway_a).certificado
    live = services.certificado_issue(gateway=gateway_a).certificado
    other = services.certificado_issue(gateway=gateway_b).certificado
    with django_capture_on_commit_callbacks(execute=True):
        services.certificado_revoke(certificado=revoked, reason="key_compromise")
    with django_capture_on_commit_callbacks(execute=True):
        gateway_a.conta.delete()
    with scopes_disabled():
        assert not CertificadoDevice.objects.filter(pk__in=[revoked.pk, live.pk]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.crl_publish(reload=False)  # rebuilt from scratch: nothing comes back
    serials = _crl_serials(pki_dir)
    assert int(revoked.serial, 16) in serials
    assert int(live.serial, 16) in serials  # revoked on the way out (cessation)
    assert int(other.serial, 16) not in serials
    reasons = dict(Revogacao.objects.values_list("serial", "reason"))
    assert reasons == {revoked.serial: "key_compromise", live.serial: "cessation_of_operation"}


def test_deleting_a_certificate_row_keeps_its_serial_in_the_crl(pki_dir, gateway_a):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    services.certificado_revoke(certificado=cert, reason="superseded")
    with scopes_disabled():
        CertificadoDevice.objects.filter(pk=cert.pk).delete()
    services.crl_publish(reload=False)
    assert int(cert.serial, 16) in _crl_serials(pki_dir)


def test_certificates_and_revocations_cannot_be_deleted_from_the_admin(pki_dir, gateway_a, client):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    services.certificado_revoke(certificado=cert, reason="superseded")
    user = CustomUser.objects.create_superuser(email="root@example.com", password="x-Senha-2026")
    client.force_login(user)
    for name, pk in (
        ("certificados_certificadodevice", cert.pk),
        ("certificados_revogacao", Revogacao.objects.get().pk),
    ):
        assert client.get(reverse(f"admin:{name}_change", args=[pk])).status_code == 200
        assert (
            client.post(reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"}).status_code
            == 403
        )
        changelist = reverse(f"admin:{name}_changelist")
        response = client.post(
            changelist, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
        )
        assert b"delete_selected" not in client.get(changelist).content
    with scopes_disabled():
        assert CertificadoDevice.objects.filter(pk=cert.pk).exists()
    assert Revogacao.objects.filter(serial=cert.serial).exists()
    assert response.status_code in (200, 302)

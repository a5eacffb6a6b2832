"""Certificate pages per role, and tenant isolation for every page that takes an id."""

import io
import zipfile

import pytest
from django.urls import reverse

from certificados import services
from certificados.models import CertificadoDevice
from tds_testing.pki import make_csr

pytestmark = pytest.mark.django_db
EDITORS = ["admin", "operador"]


def _snapshot():
    return list(CertificadoDevice.objects.order_by("pk").values())


@pytest.mark.parametrize("role", EDITORS)
def test_editor_issues_with_server_key_and_gets_zip_once(pki_dir, as_role, gateway_a, role):
    client = as_role(role)
    url = reverse("certificados:issue", args=[gateway_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "aa:bb:cc:00:00:01.key" in names
    cert = CertificadoDevice.objects.get()
    assert cert.issued_by.memberships.get().role == role
    again = client.get(reverse("certificados:download", args=[cert.pk]))
    assert "aa:bb:cc:00:00:01.key" not in zipfile.ZipFile(io.BytesIO(again.content)).namelist()


def test_issue_from_uploaded_csr(pki_dir, as_role, gateway_a):
    client = as_role("operador")
    pem, _ = make_csr("aa:bb:cc:00:00:01")
    upload = io.BytesIO(pem)
    upload.name = "gw.csr"
    response = client.post(reverse("certificados:issue", args=[gateway_a.pk]), {"csr_file": upload})
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == ["README.txt", "aa:bb:cc:00:00:01.crt", "ca.crt"]


def test_csr_with_wrong_cn_shows_a_form_error_and_issues_nothing(pki_dir, as_role, gateway_a):
    client = as_role("admin")
    pem, _ = make_csr("11:22:33:44:55:66")
    response = client.post(
        reverse("certificados:issue", args=[gateway_a.pk]), {"csr": pem.decode()}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "is-invalid" in body
    assert "deve ser o MAC deste gateway" in body
    assert "aa:bb:cc:00:00:01" in body
    assert CertificadoDevice.objects.count() == 0


def test_leitor_cannot_issue_revoke_or_download(pki_dir, as_role, gateway_a):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    client = as_role("leitor")
    before = _snapshot()
    assert client.get(reverse("certificados:issue", args=[gateway_a.pk])).status_code == 403
    assert client.post(reverse("certificados:issue", args=[gateway_a.pk]), {}).status_code == 403
    assert client.get(reverse("certificados:download", args=[cert.pk])).status_code == 403
    revoke = client.post(reverse("certificados:revoke", args=[cert.pk]), {"reason": "superseded"})
    assert revoke.status_code == 403
    assert _snapshot() == before
    # ...but reads the list, the detail and the gateway panel, without the buttons.
    listing = client.get(reverse("certificados:index")).content.decode()
    assert cert.common_name in listing
    detail = client.get(reverse("certificados:detail", args=[cert.pk])).content.decode()
    assert cert.fingerprint_sha256 in detail
    assert 'data-testid="cert-revoke-form"' not in detail
    assert 'data-testid="cert-download"' not in detail
    gw_page = client.get(reverse("dispositivos:gateway_detail", args=[gateway_a.pk]))
    assert 'data-testid="cert-issue"' not in gw_page.content.decode()


def test_admin_revokes_with_reason(pki_dir, as_role, gateway_a):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    client = as_role("admin")
    response = client.post(
        reverse("certificados:revoke", args=[cert.pk]), {"reason": "key_compromise"}, follow=True
    )
    cert.refresh_from_db()
    assert cert.revocation_reason == "key_compromise"
    assert "revogado" in response.content.decode()
    bad = client.post(reverse("certificados:revoke", args=[cert.pk]), {"reason": "nope"})
    assert bad.status_code == 302


def test_another_accounts_ids_answer_404_and_change_nothing(pki_dir, as_role, gateway_b):
    cert_b = services.certificado_issue(gateway=gateway_b).certificado
    client = as_role("admin")
    before = _snapshot()
    for method, url in [
        ("get", reverse("certificados:detail", args=[cert_b.pk])),
        ("get", reverse("certificados:download", args=[cert_b.pk])),
        ("post", reverse("certificados:revoke", args=[cert_b.pk])),
        ("get", reverse("certificados:issue", args=[gateway_b.pk])),
        ("post", reverse("certificados:issue", args=[gateway_b.pk])),
    ]:
        response = getattr(client, method)(
            url, {"reason": "superseded"} if method == "post" else {}
        )
        assert response.status_code == 404, url
    assert _snapshot() == before
    assert cert_b.common_name not in client.get(reverse("certificados:index")).content.decode()


def test_gateway_detail_shows_certificate_panel_with_status(pki_dir, as_role, gateway_a):
    client = as_role("operador")
    url = reverse("dispositivos:gateway_detail", args=[gateway_a.pk])
    assert 'data-status="none"' in client.get(url).content.decode()
    services.certificado_issue(gateway=gateway_a)
    body = client.get(url).content.decode()
    assert 'data-status="valid"' in body
    assert 'data-testid="cert-issue"' in body


def test_anonymous_is_sent_to_login(client, pki_dir):
    response = client.get(reverse("certificados:index"))
    assert response.status_code == 302


def test_gateway_list_shows_each_gateways_certificate_status(pki_dir, as_role, conta_a, gateway_a):
    from tds_testing import factories

    other = factories.make_gateway(conta=conta_a, codigo="GW-SEM")
    revoked = factories.make_gateway(conta=conta_a, codigo="GW-REV")
    services.certificado_issue(gateway=gateway_a)
    cert = services.certificado_issue(gateway=revoked).certificado
    services.certificado_revoke(certificado=cert, reason="superseded")
    body = as_role("leitor").get(reverse("dispositivos:gateway_list")).content.decode()
    rows = body.split('data-testid="gateway-row"')[1:]
    status = {}
    for row in rows:
        codigo = row.split('">', 2)[1].split("<")[0] if "href" in row else ""
        status[codigo] = row.split('data-status="')[1].split('"')[0]
    assert status == {"GW-A": "valid", "GW-REV": "revoked", other.codigo: "none"}

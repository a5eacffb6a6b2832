"""Certificate pages per role, and tenant isolation for every page that takes an id."""

import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from certificados import services
from certificados.models import CertificadoDevice
from tds_testing.pki import make_csr

pytestmark = pytest.mark.django_db
EDITORS = ["admin", "operador"]


def _snapshot():
    return list(CertificadoDevice.objects.order_by("pk").values())


@pytest.mark.parametrize("role", EDITORS)
def test_editor_issues_then_sees_what_was_issued_and_downloads_the_key_once(
    pki_dir, as_role, gateway_a, role
):
    client = as_role(role)
    url = reverse("certificados:issue", args=[gateway_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {})
    cert = CertificadoDevice.objects.get()
    assert cert.issued_by.memberships.get().role == role
    assert response.status_code == 302
    assert response["Location"] == reverse("certificados:issued", args=[cert.pk])
    page = client.get(response["Location"]).content.decode()
    for shown in (
        cert.serial,
        cert.fingerprint_sha256,
        "GW-A",
        timezone.localtime(cert.not_after).strftime("%d/%m/%Y"),  # as the page shows it
    ):
        assert shown in page
    assert "uma única vez" in page
    download = reverse("certificados:download", args=[cert.pk])
    first = client.get(download)
    assert first["Content-Type"] == "application/zip"
    assert first["Cache-Control"] == "no-store"
    assert "aa-bb-cc-00-00-01.key" in zipfile.ZipFile(io.BytesIO(first.content)).namelist()
    again = client.get(download)
    assert "aa-bb-cc-00-00-01.key" not in zipfile.ZipFile(io.BytesIO(again.content)).namelist()
    assert "já foi baixada ou expirou" in client.get(response["Location"]).content.decode()


def test_the_held_key_is_only_for_the_user_who_issued_it(pki_dir, as_role, gateway_a):
    admin = as_role("admin")
    admin.post(reverse("certificados:issue", args=[gateway_a.pk]), {})
    cert = CertificadoDevice.objects.get()
    other = as_role("operador")
    names = zipfile.ZipFile(
        io.BytesIO(other.get(reverse("certificados:download", args=[cert.pk])).content)
    ).namelist()
    assert "aa-bb-cc-00-00-01.key" not in names


def test_issued_page_tells_the_plain_dev_broker_and_how_to_configure_mtls(
    pki_dir, as_role, gateway_a, settings
):
    """`make run`: MQTT_URL=mqtt://127.0.0.1:1884 (deploy/mosquitto-dev.conf, no TLS)."""
    settings.TDS_MQTT_PUBLIC_HOST = ""
    settings.MQTT_URL = "mqtt://127.0.0.1:1884"
    client = as_role("admin")
    issued = client.post(reverse("certificados:issue", args=[gateway_a.pk]), {})
    page = client.get(issued["Location"]).content.decode()
    assert "não tem um broker com TLS configurado" in page
    assert "mqtt://127.0.0.1:1884" in page
    assert "mosquitto_config" in page
    cert = CertificadoDevice.objects.get()
    readme = (
        zipfile.ZipFile(
            io.BytesIO(client.get(reverse("certificados:download", args=[cert.pk])).content)
        )
        .read("README.txt")
        .decode()
    )
    assert "NÃO tem um broker com TLS configurado" in readme
    assert "mosquitto_pub -h 127.0.0.1 -p 1884 " in readme
    assert "8883" not in readme.split("Teste no broker")[1]


@pytest.mark.parametrize(
    ("public_host", "mqtt_url", "shown"),
    [
        ("mqtt.example.com", "mqtt://127.0.0.1:1884", "mqtts://mqtt.example.com:8883"),
        ("", "mqtts://broker.interno:9883", "mqtts://broker.interno:9883"),
    ],
)
def test_issued_page_and_readme_show_the_configured_mtls_broker(
    pki_dir, as_role, gateway_a, settings, public_host, mqtt_url, shown
):
    settings.TDS_MQTT_PUBLIC_HOST = public_host
    settings.TDS_MQTT_PUBLIC_PORT = 8883
    settings.MQTT_URL = mqtt_url
    client = as_role("admin")
    issued = client.post(reverse("certificados:issue", args=[gateway_a.pk]), {})
    page = client.get(issued["Location"]).content.decode()
    assert shown in page
    assert "não tem um broker com TLS" not in page
    cert = CertificadoDevice.objects.get()
    zipped = client.get(reverse("certificados:download", args=[cert.pk])).content
    assert shown in zipfile.ZipFile(io.BytesIO(zipped)).read("README.txt").decode()


def test_issue_from_uploaded_csr(pki_dir, as_role, gateway_a):
    client = as_role("operador")
    pem, _ = make_csr("aa:bb:cc:00:00:01")
    upload = io.BytesIO(pem)
    upload.name = "gw.csr"
    response = client.post(reverse("certificados:issue", args=[gateway_a.pk]), {"csr_file": upload})
    cert = CertificadoDevice.objects.get()
    assert response["Location"] == reverse("certificados:issued", args=[cert.pk])
    assert (
        "a chave privada continua só no gateway"
        in client.get(response["Location"]).content.decode()
    )
    zipped = client.get(reverse("certificados:download", args=[cert.pk])).content
    names = zipfile.ZipFile(io.BytesIO(zipped)).namelist()
    assert sorted(names) == ["README.txt", "aa-bb-cc-00-00-01.crt", "ca.crt"]


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
    assert client.get(reverse("certificados:issued", args=[cert.pk])).status_code == 403
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
        ("get", reverse("certificados:issued", args=[cert_b.pk])),
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
    assert (
        '<span class="badge text-bg-secondary" data-testid="cert-status" data-status="none">'
        "sem certificado</span>"
    ) in client.get(url).content.decode()
    services.certificado_issue(gateway=gateway_a)
    body = client.get(url).content.decode()
    assert (
        '<span class="badge text-bg-success" data-testid="cert-status" data-status="valid">'
        "válido</span>"
    ) in body
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("reload_cmd", "said"),
    [
        ("", "nenhuma recarga do broker está configurada: o broker continua aceitando"),
        ("false", "comando de recarga do broker (TDS_MOSQUITTO_RELOAD_CMD) falhou"),
        ("true", "o broker recarregado; ele já recusa este certificado"),
    ],
)
def test_revocation_says_whether_the_broker_was_reloaded(
    pki_dir, as_role, gateway_a, settings, reload_cmd, said
):
    """With an mTLS broker and no reload configured, the page must not claim the broker
    already refuses the certificate, and must say how to reload it."""
    settings.TDS_MOSQUITTO_RELOAD_CMD = reload_cmd
    settings.TDS_MQTT_PUBLIC_HOST = ""
    settings.MQTT_URL = "mqtts://broker.interno:8883"
    cert = services.certificado_issue(gateway=gateway_a).certificado
    page = as_role("admin").post(
        reverse("certificados:revoke", args=[cert.pk]), {"reason": "superseded"}, follow=True
    )
    html = page.content.decode()
    assert said in html
    if reload_cmd != "true":
        assert "kill -HUP" in html
        assert "a CRL do broker foi atualizada" not in html


@pytest.mark.django_db(transaction=True)
def test_revocation_under_make_run_says_the_dev_broker_checks_no_certificate(
    pki_dir, as_role, gateway_a, settings
):
    """`make run`: MQTT_URL=mqtt://127.0.0.1:1884 (deploy/mosquitto-dev.conf: no TLS,
    anonymous). Asking to reload Mosquitto there is pointless: it accepts anyone."""
    settings.TDS_MOSQUITTO_RELOAD_CMD = ""
    settings.TDS_MQTT_PUBLIC_HOST = ""
    settings.MQTT_URL = "mqtt://127.0.0.1:1884"
    cert = services.certificado_issue(gateway=gateway_a).certificado
    page = as_role("admin").post(
        reverse("certificados:revoke", args=[cert.pk]), {"reason": "superseded"}, follow=True
    )
    html = page.content.decode()
    assert "mqtt://127.0.0.1:1884" in html
    assert "não verifica certificados" in html
    assert "kill -HUP" not in html
    assert "continua aceitando" not in html


def test_revocation_asks_for_confirmation_first(pki_dir, as_role, gateway_a):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    client = as_role("admin")
    url = reverse("certificados:revoke", args=[cert.pk])
    page = client.get(url, {"reason": "superseded"})
    cert.refresh_from_db()
    assert cert.revoked_at is None  # asking changes nothing
    html = page.content.decode()
    assert "Esta ação não pode ser desfeita." in html
    assert 'name="reason" value="superseded"' in html
    client.post(url, {"reason": "superseded"})
    cert.refresh_from_db()
    assert cert.revoked_at is not None

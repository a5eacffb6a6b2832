"""Issuing, revoking, the CRL, the download and the expiry job."""

import io
import logging
import zipfile
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django.utils import timezone

from certificados import services
from certificados.models import CertificadoDevice, Origem, Status
from certificados.tasks import certificates_check_expiry
from tds_testing.pki import make_csr

pytestmark = pytest.mark.django_db


def test_issue_from_csr_keeps_the_key_on_the_gateway(pki_dir, gateway_a, admin_a):
    pem, key = make_csr("AA:BB:CC:00:00:01")  # another spelling of the same MAC
    issued = services.certificado_issue(gateway=gateway_a, issued_by=admin_a, csr_pem=pem)
    assert issued.key_pem is None
    row = CertificadoDevice.objects.get()
    cert = x509.load_pem_x509_certificate(row.certificado_pem.encode())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert row.common_name == "aa:bb:cc:00:00:01"
    assert cert.subject.rfc4514_string() == "CN=aa:bb:cc:00:00:01"
    assert row.serial == format(cert.serial_number, "x")
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    assert row.fingerprint_sha256.replace(":", "").lower() == fingerprint
    assert row.not_after == cert.not_valid_after_utc
    assert row.issued_by == admin_a
    assert row.conta == gateway_a.conta
    assert row.origem == Origem.CSR
    assert "TDS New Platform CA" in row.issuer


def test_server_generated_key_is_returned_once_and_never_stored(pki_dir, gateway_a):
    issued = services.certificado_issue(gateway=gateway_a)
    assert issued.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    row = CertificadoDevice.objects.get()
    assert row.origem == Origem.SERVER
    body = issued.key_pem.decode().splitlines()[1]
    for value in CertificadoDevice.objects.values().get().values():
        assert body not in str(value)
    assert not any(body in p.read_text(errors="ignore") for p in pki_dir.iterdir() if p.is_file())


def test_csr_for_another_mac_is_refused_with_a_field_error(pki_dir, gateway_a):
    pem, _ = make_csr("aa:bb:cc:00:00:99")
    with pytest.raises(ValidationError) as exc:
        services.certificado_issue(gateway=gateway_a, csr_pem=pem)
    assert "aa:bb:cc:00:00:01" in exc.value.message_dict["csr"][0]
    assert CertificadoDevice.objects.count() == 0


def test_csr_with_weak_key_is_refused_with_a_field_error(pki_dir, gateway_a):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem, _ = make_csr("aa:bb:cc:00:00:01", key=weak)
    with pytest.raises(ValidationError) as exc:
        services.certificado_issue(gateway=gateway_a, csr_pem=pem)
    assert "2048" in exc.value.message_dict["csr"][0]
    assert CertificadoDevice.objects.count() == 0


def test_issue_without_ca_says_to_run_pki_init(tmp_path, settings, gateway_a):
    settings.TDS_PKI_DIR = tmp_path / "none"
    with pytest.raises(ValidationError, match="pki_init"):
        services.certificado_issue(gateway=gateway_a)


def test_revoke_puts_serial_and_reason_in_a_signed_crl(
    pki_dir, gateway_a, admin_a, django_capture_on_commit_callbacks
):
    cert = services.certificado_issue(gateway=gateway_a).certificado
    other = services.certificado_issue(gateway=gateway_a).certificado
    with pytest.raises(ValidationError):
        services.certificado_revoke(certificado=cert, reason="because", revoked_by=admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.certificado_revoke(certificado=cert, reason="key_compromise", revoked_by=admin_a)
    cert.refresh_from_db()
    assert cert.revoked_at is not None
    assert cert.revocation_reason == "key_compromise"
    assert cert.revoked_by == admin_a
    assert cert.status == Status.REVOKED
    ca = x509.load_pem_x509_certificate((pki_dir / "ca.crt").read_bytes())
    crl = x509.load_pem_x509_crl((pki_dir / "crl.pem").read_bytes())
    assert crl.is_signature_valid(ca.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert crl.get_revoked_certificate_by_serial_number(int(other.serial, 16)) is None
    with pytest.raises(ValidationError, match="já foi revogado"):
        services.certificado_revoke(certificado=cert, reason="superseded")


def test_deleting_a_gateway_revokes_its_certificates(
    pki_dir, gateway_a, django_capture_on_commit_callbacks
):
    from dispositivos import services as registry

    cert = services.certificado_issue(gateway=gateway_a).certificado
    with django_capture_on_commit_callbacks(execute=True):
        if hasattr(registry, "gateway_delete"):
            registry.gateway_delete(gateway=gateway_a)
        else:
            gateway_a.delete()
    cert.refresh_from_db()
    assert cert.gateway is None
    assert cert.revocation_reason == "cessation_of_operation"
    crl = x509.load_pem_x509_crl((pki_dir / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16)) is not None


def test_bundle_zip_has_cert_key_ca_and_a_readme_with_a_working_example(
    pki_dir, gateway_a, settings
):
    settings.TDS_MQTT_PUBLIC_HOST = "mqtt.example.com"
    issued = services.certificado_issue(gateway=gateway_a)
    data = services.bundle_zip(certificado=issued.certificado, key_pem=issued.key_pem)
    zf = zipfile.ZipFile(io.BytesIO(data))
    mac, name = "aa:bb:cc:00:00:01", "aa-bb-cc-00-00-01"
    assert sorted(zf.namelist()) == sorted([f"{name}.crt", f"{name}.key", "ca.crt", "README.txt"])
    readme = zf.read("README.txt").decode()
    assert "mqtts://mqtt.example.com:8883" in readme
    assert (
        f"mosquitto_pub -h mqtt.example.com -p 8883 --cafile ca.crt --cert {name}.crt --key {name}.key"
        in readme
    )
    # The test command cannot damage data: it announces the gateway online, no reading (a
    # made-up "valor":123.45 on the demo's ~24,580 kWh meter was a backwards step, recorded
    # as a meter event and a re-base).
    start = readme.index("mosquitto_pub")
    command = readme[start : readme.index("\n\n", start)]
    assert f"-t tds_new/devices/{mac}/status -q 1 -m online" in command
    for reading_marker in ("telemetry", "valor", "raw"):
        assert reading_marker not in command
    assert "Formato das leituras" in readme
    again = zipfile.ZipFile(io.BytesIO(services.bundle_zip(certificado=issued.certificado)))
    assert f"{name}.key" not in again.namelist()
    assert "Arquivos" in readme
    assert "REVOGADO" not in readme
    services.certificado_revoke(certificado=issued.certificado, reason="superseded")
    issued.certificado.refresh_from_db()
    revoked = zipfile.ZipFile(io.BytesIO(services.bundle_zip(certificado=issued.certificado)))
    text = revoked.read("README.txt").decode()
    assert "foi REVOGADO em" in text
    assert "O broker recusa este certificado depois de recarregar a CRL" in text
    # a plain broker (`make run`'s) checks no certificate: the README does not claim it refuses
    settings.TDS_MQTT_PUBLIC_HOST = ""
    settings.MQTT_URL = "mqtt://127.0.0.1:1884"
    plain = services.bundle_zip(certificado=issued.certificado)
    text = zipfile.ZipFile(io.BytesIO(plain)).read("README.txt").decode()
    assert "foi REVOGADO em" in text
    assert "recarregar a CRL" not in text
    assert "O broker em uso não verifica certificados" in text


def test_expiry_job_flags_certificates_expiring_within_30_days_once(pki_dir, gateway_a, caplog):
    soon = services.certificado_issue(gateway=gateway_a, days=10).certificado
    later = services.certificado_issue(gateway=gateway_a, days=200).certificado
    revoked = services.certificado_issue(gateway=gateway_a, days=5).certificado
    services.certificado_revoke(certificado=revoked, reason="superseded")
    with caplog.at_level(logging.WARNING, logger="certificados.services"):
        result = certificates_check_expiry()
    assert result["flagged"] == 1
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.expiry_notified_at is not None
    assert later.expiry_notified_at is None
    assert soon.status == Status.EXPIRING
    assert later.status == Status.VALID
    assert "aa:bb:cc:00:00:01" in caplog.text
    assert certificates_check_expiry()["flagged"] == 0


def test_expiry_job_republishes_a_crl_close_to_its_next_update(pki_dir, settings):
    settings.TDS_CRL_VALIDITY_DAYS = 10
    services.crl_publish(reload=False)
    before = (pki_dir / "crl.pem").read_bytes()
    settings.TDS_CRL_VALIDITY_DAYS = 90
    assert certificates_check_expiry()["crl_refreshed"] is True
    crl = x509.load_pem_x509_crl((pki_dir / "crl.pem").read_bytes())
    assert (pki_dir / "crl.pem").read_bytes() != before
    assert crl.next_update_utc > timezone.now() + timedelta(days=80)
    assert certificates_check_expiry()["crl_refreshed"] is False

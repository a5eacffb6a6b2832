"""issue_gateway_cert and mosquitto_config."""

import stat

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command

from certificados.models import CertificadoDevice
from tds_testing.pki import make_csr

pytestmark = pytest.mark.django_db


def test_issue_gateway_cert_generates_key_0600(pki_dir, gateway_a, tmp_path):
    out = tmp_path / "out"
    call_command("issue_gateway_cert", "AABBCC000001", "--out", str(out))
    mac = "aa:bb:cc:00:00:01"
    assert stat.S_IMODE((out / f"{mac}.key").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((out / f"{mac}.crt").read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate((out / "ca.crt").read_bytes()))
    assert CertificadoDevice.objects.get().serial == format(cert.serial_number, "x")


def test_issue_gateway_cert_from_csr_writes_no_key(pki_dir, gateway_a, tmp_path):
    pem, _ = make_csr("aa:bb:cc:00:00:01")
    (tmp_path / "gw.csr").write_bytes(pem)
    out = tmp_path / "out"
    call_command(
        "issue_gateway_cert",
        "aa:bb:cc:00:00:01",
        "--out",
        str(out),
        "--csr",
        str(tmp_path / "gw.csr"),
    )
    assert sorted(p.name for p in out.iterdir()) == ["aa:bb:cc:00:00:01.crt", "ca.crt"]


def test_issue_gateway_cert_refuses_bad_input(pki_dir, gateway_a, tmp_path):
    with pytest.raises(CommandError, match="not a MAC"):
        call_command("issue_gateway_cert", "zz", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="no gateway"):
        call_command("issue_gateway_cert", "aa:bb:cc:00:00:77", "--out", str(tmp_path))
    pem, _ = make_csr("aa:bb:cc:00:00:99")
    (tmp_path / "x.csr").write_bytes(pem)
    with pytest.raises(CommandError, match=r"csr: .*aa:bb:cc:00:00:01"):
        call_command(
            "issue_gateway_cert",
            "aa:bb:cc:00:00:01",
            "--out",
            str(tmp_path),
            "--csr",
            str(tmp_path / "x.csr"),
        )
    assert CertificadoDevice.objects.count() == 0


def test_mosquitto_config_writes_a_complete_broker_directory(pki_dir, tmp_path):
    out = tmp_path / "broker"
    call_command(
        "mosquitto_config", "--out", str(out), "--port", "18999", "--host", "mqtt.example.com"
    )
    conf = (out / "mosquitto.conf").read_text()
    for line in [
        "listener 18999",
        "require_certificate true",
        "use_identity_as_username true",
        "use_username_as_clientid true",
        "allow_anonymous false",
        f"cafile {out}/ca.crt",
        f"crlfile {out}/crl.pem",
        f"acl_file {out}/acl",
        "persistence true",
        f"persistence_location {out}/data/",
        "max_queued_messages 1000000",
    ]:
        assert line in conf, line
    acl = (out / "acl").read_text()
    assert "pattern write tds_new/devices/%u/telemetry" in acl
    assert "user tds-ingest-1\ntopic read tds_new/devices/+/telemetry" in acl
    assert "user tds-ingest-2" not in acl
    server = x509.load_pem_x509_certificate((out / "server.crt").read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "mqtt.example.com"} <= set(san.get_values_for_type(x509.DNSName))
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    consumer = x509.load_pem_x509_certificate((out / "consumer.crt").read_bytes())
    assert consumer.subject.rfc4514_string() == "CN=tds-ingest-1"
    for key in ("server.key", "consumer.key"):
        assert stat.S_IMODE((out / key).stat().st_mode) == 0o600
    # A second run keeps the existing identities (the consumer's deployed cert stays good).
    call_command(
        "mosquitto_config", "--out", str(out), "--port", "18999", "--host", "mqtt.example.com"
    )
    assert x509.load_pem_x509_certificate((out / "consumer.crt").read_bytes()) == consumer


def test_mosquitto_config_gives_each_consumer_instance_its_own_identity(pki_dir, tmp_path):
    out = tmp_path / "broker"
    call_command("mosquitto_config", "--out", str(out), "--consumers", "3")
    acl = (out / "acl").read_text()
    for n, name in ((1, "consumer"), (2, "consumer-2"), (3, "consumer-3")):
        cert = x509.load_pem_x509_certificate((out / f"{name}.crt").read_bytes())
        assert cert.subject.rfc4514_string() == f"CN=tds-ingest-{n}"
        assert f"user tds-ingest-{n}\ntopic read tds_new/devices/+/telemetry" in acl


def test_mosquitto_config_without_ca_says_what_to_do(tmp_path, settings):
    settings.TDS_PKI_DIR = tmp_path / "nothing"
    with pytest.raises(CommandError, match="pki_init"):
        call_command("mosquitto_config", "--out", str(tmp_path / "b"))


def test_pki_crl_rewrites_the_crl_into_the_broker_directory(pki_dir, gateway_a, tmp_path, settings):
    from certificados import services

    cert = services.certificado_issue(gateway=gateway_a).certificado
    services.certificado_revoke(certificado=cert, reason="superseded")  # on_commit not run here
    settings.TDS_MOSQUITTO_DIR = str(tmp_path / "broker")
    call_command("pki_crl", "--no-reload")
    for path in (pki_dir / "crl.pem", tmp_path / "broker" / "crl.pem"):
        crl = x509.load_pem_x509_crl(path.read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16)) is not None

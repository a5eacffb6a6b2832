"""mTLS, ACL and revocation against a real private Mosquitto started with the files
`mosquitto_config` writes (`mosquitto -c DIR/mosquitto.conf`, free port)."""

import datetime as dt
import time

import pytest
from django.core.management import call_command

from certificados import services
from certificados.pki import ca as pki

from .broker_util import GeneratedBroker, payload

pytestmark = pytest.mark.django_db
MAC_A = "aa:bb:cc:00:00:01"
MAC_B = "aa:bb:cc:00:00:02"


@pytest.fixture
def broker(pki_dir, tmp_path, settings):
    b = GeneratedBroker(tmp_path / "broker")
    settings.TDS_MOSQUITTO_DIR = str(b.out)  # revocations copy the CRL there and SIGHUP
    b.start()
    yield b
    b.stop()


def _write_identity(tmp_path, issued) -> tuple:
    mac = issued.certificado.common_name
    crt, key = tmp_path / f"{mac}.crt", tmp_path / f"{mac}.key"
    crt.write_text(issued.certificado.certificado_pem)
    pki.write_private(key, issued.key_pem)
    return crt, key


@pytest.fixture
def cert_a(broker, gateway_a, tmp_path):
    return _write_identity(tmp_path, services.certificado_issue(gateway=gateway_a))


def test_gateway_certificate_publishes_and_the_consumer_receives(broker, cert_a):
    sub = broker.subscriber("$share/tds-ingest/tds_new/devices/+/telemetry")
    try:
        assert sub.granted == 1
        body = payload(MAC_A, 42.5)
        assert (
            broker.publish(
                topic=f"tds_new/devices/{MAC_A}/telemetry",
                payload=body,
                cert=cert_a[0],
                key=cert_a[1],
            )
            == 0
        )
        assert sub.get() == (f"tds_new/devices/{MAC_A}/telemetry", body)
    finally:
        sub.close()


def test_readme_example_runs_as_written(broker, gateway_a, tmp_path, settings):
    """The command in the download's README, run from the unzipped folder."""
    import io
    import shlex
    import subprocess
    import zipfile

    settings.TDS_MQTT_PUBLIC_HOST = "127.0.0.1"
    settings.TDS_MQTT_PUBLIC_PORT = broker.port
    issued = services.certificado_issue(gateway=gateway_a)
    folder = tmp_path / "unzipped"
    zipfile.ZipFile(
        io.BytesIO(services.bundle_zip(certificado=issued.certificado, key_pem=issued.key_pem))
    ).extractall(folder)
    readme = (folder / "README.txt").read_text()
    start = readme.index("mosquitto_pub")
    command = readme[start : readme.index("\n\n", start)].replace("\\\n", " ")
    sub = broker.subscriber("tds_new/devices/+/status")
    try:
        result = subprocess.run(shlex.split(command), cwd=folder, capture_output=True, timeout=20)
        assert result.returncode == 0, result.stderr
        assert sub.get() == (f"tds_new/devices/{MAC_A}/status", "online")
    finally:
        sub.close()


def test_connection_without_certificate_is_refused(broker):
    assert broker.publish(topic=f"tds_new/devices/{MAC_A}/telemetry", payload=payload(MAC_A)) != 0


def test_certificate_of_another_ca_is_refused(broker, gateway_a, tmp_path):
    rogue = pki.ca_create(pki_dir=tmp_path / "rogue", common_name="TDS New Platform CA")
    key = pki.new_key()
    cert = pki.sign_leaf(ca=rogue, public_key=key.public_key(), common_name=MAC_A, days=30)
    (tmp_path / "r.crt").write_bytes(pki.cert_pem(cert))
    pki.write_private(tmp_path / "r.key", pki.key_pem(key))
    code = broker.publish(
        topic=f"tds_new/devices/{MAC_A}/telemetry",
        payload=payload(MAC_A),
        cert=tmp_path / "r.crt",
        key=tmp_path / "r.key",
    )
    assert code != 0


def test_expired_certificate_is_refused(broker, tmp_path):
    ca = pki.ca_load(broker.out.parent / "pki")
    key = pki.new_key()
    now = dt.datetime.now(dt.UTC)
    cert = pki.sign_leaf(
        ca=ca, public_key=key.public_key(), common_name=MAC_A, days=1,
        not_before=now - dt.timedelta(days=10), not_after=now - dt.timedelta(days=1),
    )  # fmt: skip
    (tmp_path / "old.crt").write_bytes(pki.cert_pem(cert))
    pki.write_private(tmp_path / "old.key", pki.key_pem(key))
    code = broker.publish(
        topic=f"tds_new/devices/{MAC_A}/telemetry",
        payload=payload(MAC_A),
        cert=tmp_path / "old.crt",
        key=tmp_path / "old.key",
    )
    assert code != 0
    assert broker.wait_log("certificate expired", "certificate verify failed"), broker.log()


def test_gateway_a_cannot_publish_on_gateway_b_topic(broker, cert_a, gateway_b):
    sub = broker.subscriber("tds_new/devices/+/telemetry")
    try:
        forged = payload(MAC_B, 666)
        broker.publish(
            topic=f"tds_new/devices/{MAC_B}/telemetry",
            payload=forged,
            cert=cert_a[0],
            key=cert_a[1],
        )
        broker.publish(topic="tds_new/devices/+/status", payload="x", cert=cert_a[0], key=cert_a[1])
        genuine = payload(MAC_A, 1)
        assert (
            broker.publish(
                topic=f"tds_new/devices/{MAC_A}/telemetry",
                payload=genuine,
                cert=cert_a[0],
                key=cert_a[1],
            )
            == 0
        )
        # QoS 1 from one client is delivered in order: the first message to arrive is
        # the genuine one, so the forged one was dropped by the broker.
        assert sub.get() == (f"tds_new/devices/{MAC_A}/telemetry", genuine)
        assert sub.get(timeout=0.5) is None
    finally:
        sub.close()


def test_gateway_cannot_read_other_gateways(broker, cert_a, gateway_b, tmp_path):
    cert_b = _write_identity(tmp_path, services.certificado_issue(gateway=gateway_b))
    # Mosquitto grants the SUBACK but delivers nothing the ACL does not let A read.
    spy = broker.subscriber("#", cert=cert_a[0], key=cert_a[1])
    try:
        assert (
            broker.publish(
                topic=f"tds_new/devices/{MAC_B}/telemetry",
                payload=payload(MAC_B),
                cert=cert_b[0],
                key=cert_b[1],
            )
            == 0
        )
        assert spy.get(timeout=1) is None
    finally:
        spy.close()


def test_revoked_certificate_is_refused_after_the_crl_reload(
    broker, gateway_a, gateway_b, tmp_path, django_capture_on_commit_callbacks
):
    issued_a = services.certificado_issue(gateway=gateway_a)
    cert_a = _write_identity(tmp_path, issued_a)
    cert_b = _write_identity(tmp_path, services.certificado_issue(gateway=gateway_b))
    topic_a = f"tds_new/devices/{MAC_A}/telemetry"
    assert broker.publish(topic=topic_a, payload=payload(MAC_A), cert=cert_a[0], key=cert_a[1]) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.certificado_revoke(certificado=issued_a.certificado, reason="key_compromise")
    # The revocation wrote crl.pem into the broker's directory and sent it a SIGHUP
    # (pid file there); the broker applies it asynchronously, within moments.
    assert broker.proc.poll() is None
    deadline = time.monotonic() + 5
    while broker.publish(topic=topic_a, payload=payload(MAC_A), cert=cert_a[0], key=cert_a[1]) == 0:
        assert time.monotonic() < deadline, "revoked certificate still accepted after reload"
        time.sleep(0.1)
    # Other gateways are untouched by the reload.
    topic_b = f"tds_new/devices/{MAC_B}/telemetry"
    assert broker.publish(topic=topic_b, payload=payload(MAC_B), cert=cert_b[0], key=cert_b[1]) == 0
    # And it stays refused after a full restart (crl.pem is read at startup).
    broker.stop()
    broker.start()
    assert broker.publish(topic=topic_a, payload=payload(MAC_A), cert=cert_a[0], key=cert_a[1]) != 0


def test_consumer_certificate_subscribes_but_cannot_publish_as_a_gateway(broker, cert_a):
    sub = broker.subscriber("tds_new/devices/#")  # sees telemetry and status
    try:
        assert sub.granted == 1
        # A second consumer instance's identity: the subscriber's own (tds-ingest-1) would
        # take over the subscriber's session (the client id is the certificate CN).
        consumer = (broker.out / "consumer-2.crt", broker.out / "consumer-2.key")
        broker.publish(
            topic=f"tds_new/devices/{MAC_A}/telemetry",
            payload=payload(MAC_A, 666),
            cert=consumer[0],
            key=consumer[1],
        )
        broker.publish(
            topic=f"tds_new/devices/{MAC_A}/status",
            payload="offline",
            cert=consumer[0],
            key=consumer[1],
        )
        genuine = payload(MAC_A, 2)
        assert (
            broker.publish(
                topic=f"tds_new/devices/{MAC_A}/telemetry",
                payload=genuine,
                cert=cert_a[0],
                key=cert_a[1],
            )
            == 0
        )
        assert sub.get() == (f"tds_new/devices/{MAC_A}/telemetry", genuine)
        assert sub.get(timeout=0.5) is None
    finally:
        sub.close()


def test_config_regeneration_keeps_the_running_broker_valid(broker, pki_dir):
    """Running mosquitto_config again (e.g. after adding gateways) changes nothing that
    needs a reload: the ACL is a pattern on the certificate CN."""
    before = (broker.out / "acl").read_text()
    call_command(
        "mosquitto_config",
        "--out",
        str(broker.out),
        "--port",
        str(broker.port),
        "--bind",
        "127.0.0.1",
        "--consumers",
        "2",
    )
    assert (broker.out / "acl").read_text() == before


def test_broker_server_certificate_cannot_be_used_as_a_client(broker):
    """Only clientAuth certificates get in (the server's has serverAuth only)."""
    code = broker.publish(
        topic="tds_new/devices/localhost/telemetry",
        payload="{}",
        cert=broker.out / "server.crt",
        key=broker.out / "server.key",
    )
    assert code != 0

"""The README that goes into a certificate download."""

from django.conf import settings
from django.utils import timezone

from tds_core import wire


def example_payload(mac: str) -> str:
    return wire.telemetry_payload(
        mac=mac,
        timestamp=timezone.now().replace(microsecond=0),
        leituras=[{"dispositivo_codigo": "D01", "valor": 123.45}],
        compact=True,
    ).decode()


def bundle_readme(*, certificado, has_key: bool) -> str:
    mac = certificado.common_name
    host = settings.TDS_MQTT_PUBLIC_HOST
    port = settings.TDS_MQTT_PUBLIC_PORT
    key_line = (
        f"  {mac}.key   the private key, generated on the server and handed out only in this\n"
        "             download (the platform keeps no copy): keep it on the gateway, mode 0600.\n"
        if has_key
        else f"  (no key: use the private key of the gateway that made the CSR, here {mac}.key)\n"
    )
    return f"""TDS New — gateway certificate {mac}
=====================================================

Files
  {mac}.crt   the gateway's client certificate (CN = {mac}),
             valid {certificado.not_before:%Y-%m-%d} to {certificado.not_after:%Y-%m-%d} (UTC),
             serial {certificado.serial}, SHA-256 {certificado.fingerprint_sha256}
{key_line}  ca.crt      the platform CA: the broker's certificate is checked against it

Broker
  mqtts://{host}:{port}  (TLS with client certificate; MQTT 3.1.1 or 5)
  The gateway may publish only to
    {wire.telemetry_topic(mac)}   (QoS 1, JSON readings)
    {wire.status_topic(mac)}      (online / offline, retained; set offline as last will)

Test from this folder
  mosquitto_pub -h {host} -p {port} --cafile ca.crt --cert {mac}.crt --key {mac}.key \\
    -t {wire.telemetry_topic(mac)} -q 1 \\
    -m '{example_payload(mac)}'

  (use a current timestamp, and a dispositivo_codigo registered on this gateway)
"""

"""Telling the running Mosquitto to re-read its CRL after a revocation.

Mosquitto 2.0.11 re-reads `crlfile` on SIGHUP (checked here: after a HUP the revoked
certificate's TLS handshake fails, the others still connect). Connections already open
are not cut by the HUP; `TDS_MOSQUITTO_RELOAD_CMD` may restart the broker instead when
that matters. `broker_disconnect` cuts one identity's open connection (see there).
Order of preference for the reload:
1. `TDS_MOSQUITTO_RELOAD_CMD` (e.g. `systemctl reload mosquitto`), run without a shell;
2. SIGHUP to the pid in `TDS_MOSQUITTO_PID_FILE`, or in `<TDS_MOSQUITTO_DIR>/mosquitto.pid`
   (the config written by `mosquitto_config` has `pid_file` there);
3. nothing configured: a warning in the log says the broker must be reloaded by hand.
"""

import datetime as dt
import logging
import os
import shlex
import signal
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayEndpoint:
    """Where a gateway connects with its certificate, as this installation is configured."""

    host: str
    port: int
    tls: bool  # False: no mTLS broker configured; host/port are the plain MQTT_URL broker
    source: str  # "public" (TDS_MQTT_PUBLIC_HOST), "mqtt_url" (mqtts:// MQTT_URL), "plain"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def gateway_endpoint() -> GatewayEndpoint:
    """TDS_MQTT_PUBLIC_HOST/_PORT when set; else the consumer's broker (MQTT_URL) when it is
    mqtts://; else the plain broker of MQTT_URL (under `make run` deploy/mosquitto-dev.conf
    on 127.0.0.1:1884), flagged tls=False: it checks no certificate."""
    if settings.TDS_MQTT_PUBLIC_HOST:
        return GatewayEndpoint(
            settings.TDS_MQTT_PUBLIC_HOST, settings.TDS_MQTT_PUBLIC_PORT, True, "public"
        )
    url = urlparse(settings.MQTT_URL)
    host = url.hostname or "127.0.0.1"
    if url.scheme in ("mqtts", "ssl"):
        return GatewayEndpoint(host, url.port or 8883, True, "mqtt_url")
    return GatewayEndpoint(host, url.port or 1883, False, "plain")


def pid_file() -> Path | None:
    if settings.TDS_MOSQUITTO_PID_FILE:
        return Path(settings.TDS_MOSQUITTO_PID_FILE)
    if settings.TDS_MOSQUITTO_DIR:
        return Path(settings.TDS_MOSQUITTO_DIR) / "mosquitto.pid"
    return None


def broker_reload() -> str:
    """Reloads the broker; returns what was done ("command", "sighup", "failed" when the
    configured command failed, or "none" when no reload is configured)."""
    cmd = settings.TDS_MOSQUITTO_RELOAD_CMD
    if cmd:
        result = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=30)  # noqa: S603
        if result.returncode != 0:
            logger.error("broker reload command failed (%s): %s", result.returncode, result.stderr)
            return "failed"
        return "command"
    path = pid_file()
    if path is not None and path.exists():
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (ValueError, ProcessLookupError, PermissionError) as exc:
            logger.error("could not SIGHUP mosquitto from %s: %s", path, exc)
            return "none"
        return "sighup"
    logger.warning(
        "CRL updated but no broker reload is configured (TDS_MOSQUITTO_RELOAD_CMD, "
        "TDS_MOSQUITTO_PID_FILE or TDS_MOSQUITTO_DIR): reload mosquitto by hand (SIGHUP)"
    )
    return "none"


def broker_disconnect(*, common_name: str, timeout: float = 5.0) -> bool:
    """Drops the open connection of the client whose certificate CN is `common_name`.

    The broker config `mosquitto_config` writes binds the client id to the CN
    (`use_username_as_clientid`), so a connection made with another certificate of the
    same CN takes that session over: the broker disconnects the holder (MQTT session
    takeover) and, with a clean start, discards its session. The certificate used here
    is signed on the spot, lives two minutes, and its key exists only in a temporary file
    for the duration of the call. Call it after the CRL has been reloaded, so that the
    client's reconnection with the revoked certificate is refused.

    Needs MQTT_URL = mqtts://<the broker> (and MQTT_CA_FILE when the broker's certificate
    is not from the platform CA). Returns True when the takeover was accepted.
    """
    import paho.mqtt.client as mqtt

    from .pki import ca as pki

    url = urlparse(settings.MQTT_URL)
    if url.scheme not in ("mqtts", "ssl"):
        logger.warning(
            "cannot drop %s's connection: MQTT_URL is not mqtts:// (restart the broker)",
            common_name,
        )
        return False
    ca = pki.ca_load(settings.TDS_PKI_DIR)
    key = pki.new_key()
    now = dt.datetime.now(dt.UTC)
    cert = pki.sign_leaf(
        ca=ca,
        public_key=key.public_key(),
        common_name=common_name,
        days=1,
        not_before=now - dt.timedelta(minutes=1),
        not_after=now + dt.timedelta(minutes=2),
    )
    connected = threading.Event()
    result = {}
    with tempfile.TemporaryDirectory(prefix="tds-kick-") as tmp:
        crt_path, key_path = Path(tmp) / "c.crt", Path(tmp) / "c.key"
        crt_path.write_bytes(pki.cert_pem(cert))
        pki.write_private(key_path, pki.key_pem(key))
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"tds-kick-{uuid.uuid4().hex[:8]}",  # replaced by the CN
            protocol=mqtt.MQTTv5,
        )
        client.tls_set(
            ca_certs=settings.MQTT_CA_FILE or str(settings.TDS_PKI_DIR / pki.CA_CERT),
            certfile=str(crt_path),
            keyfile=str(key_path),
        )

        def on_connect(c, userdata, flags, reason_code, properties):
            result["rc"] = reason_code.value
            connected.set()

        client.on_connect = on_connect
        try:
            client.connect(url.hostname or "127.0.0.1", url.port or 8883, clean_start=True)
            client.loop_start()
            connected.wait(timeout)
        except OSError as exc:
            logger.error("cannot drop %s's connection: %s", common_name, exc)
            return False
        finally:
            client.disconnect()
            client.loop_stop()
    ok = result.get("rc") == 0
    if ok:
        logger.info("dropped the broker connection of %s", common_name)
    else:
        logger.error("dropping %s's connection failed: %s", common_name, result or "no CONNACK")
    return ok

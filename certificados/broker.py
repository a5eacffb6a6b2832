"""Telling the running Mosquitto to re-read its CRL after a revocation.

Mosquitto 2.0.11 re-reads `crlfile` on SIGHUP (checked here: after a HUP the revoked
certificate's TLS handshake fails, the others still connect). Connections already open
are not cut by the HUP; `TDS_MOSQUITTO_RELOAD_CMD` may restart the broker instead when
that matters. Order of preference:
1. `TDS_MOSQUITTO_RELOAD_CMD` (e.g. `systemctl reload mosquitto`), run without a shell;
2. SIGHUP to the pid in `TDS_MOSQUITTO_PID_FILE`, or in `<TDS_MOSQUITTO_DIR>/mosquitto.pid`
   (the config written by `mosquitto_config` has `pid_file` there);
3. nothing configured: a warning in the log says the broker must be reloaded by hand.
"""

import logging
import os
import shlex
import signal
import subprocess
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def pid_file() -> Path | None:
    if settings.TDS_MOSQUITTO_PID_FILE:
        return Path(settings.TDS_MOSQUITTO_PID_FILE)
    if settings.TDS_MOSQUITTO_DIR:
        return Path(settings.TDS_MOSQUITTO_DIR) / "mosquitto.pid"
    return None


def broker_reload() -> str:
    """Reloads the broker; returns what was done ("command", "sighup" or "none")."""
    cmd = settings.TDS_MOSQUITTO_RELOAD_CMD
    if cmd:
        result = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=30)  # noqa: S603
        if result.returncode != 0:
            logger.error("broker reload command failed (%s): %s", result.returncode, result.stderr)
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

"""How a revocation reaches the broker: command hook, SIGHUP by pid file, or a warning."""

import logging
import subprocess
import sys

import pytest

from certificados import broker, services

pytestmark = pytest.mark.django_db


def test_reload_command_runs_after_a_revocation(
    pki_dir, gateway_a, tmp_path, settings, django_capture_on_commit_callbacks
):
    marker = tmp_path / "reloaded"
    settings.TDS_MOSQUITTO_RELOAD_CMD = f"touch {marker}"
    cert = services.certificado_issue(gateway=gateway_a).certificado
    with django_capture_on_commit_callbacks(execute=True):
        services.certificado_revoke(certificado=cert, reason="superseded")
    assert marker.exists()


def test_sighup_goes_to_the_pid_in_the_pid_file(settings, tmp_path):
    # A child that reports the SIGHUP it receives, then exits.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal,sys,time\n"
            "signal.signal(signal.SIGHUP, lambda *a: (print('HUP', flush=True), sys.exit(0)))\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        (tmp_path / "mosquitto.pid").write_text(f"{child.pid}\n")
        settings.TDS_MOSQUITTO_DIR = str(tmp_path)
        assert broker.broker_reload() == "sighup"
        assert child.stdout.readline().strip() == "HUP"
        assert child.wait(5) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_without_any_reload_configured_a_warning_is_logged(settings, caplog):
    settings.TDS_MOSQUITTO_DIR = ""
    settings.TDS_MOSQUITTO_PID_FILE = ""
    settings.TDS_MOSQUITTO_RELOAD_CMD = ""
    with caplog.at_level(logging.WARNING, logger="certificados.broker"):
        assert broker.broker_reload() == "none"
    assert "reload mosquitto by hand" in caplog.text

"""The NATS consumer as a real process (`manage.py start_nats_consumer`) for the tests."""

import os
import sys
import time
from pathlib import Path

from tds_testing.postgres import current_database_url

from .helpers import ROOT, logged_popen


def start_nats_consumer(cluster, *, log_path: Path, instance: int = 1, ack_wait: float = 2.0):
    env = dict(os.environ)
    env.update(cluster.consumer_env())
    env["DATABASE_URL"] = current_database_url()
    env["LOG_LEVEL"] = "INFO"
    env["TDS_NATS_ACK_WAIT"] = str(ack_wait)
    args = [
        sys.executable,
        str(ROOT / "manage.py"),
        "start_nats_consumer",
        "--instance",
        str(instance),
        "--log-interval",
        "1",
    ]
    return logged_popen(args, env, log_path)


def wait_subscribed(log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_path.exists() and "event=nats_subscribed" in log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError("consumer did not subscribe:\n" + log_path.read_text(errors="replace"))

"""A real Celery worker (with its beat) as a subprocess, on a private Redis of its own
(`tds_testing.servers.PrivateRedis`), for tests and benches that kill the worker or take
the broker away."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import kombu.pools

ROOT = Path(__file__).resolve().parent.parent


class CeleryWorker:
    """`celery worker -B` in its own process group (kill -9 takes worker and beat).

    `supervise=True` restarts it when it exits, as systemd's `Restart=always` does in
    production: a worker holding an unacknowledged (e.g. countdown) task when Redis goes
    away can die with kombu's "Unrecoverable error ... 'NoneType' object has no attribute
    'hostname'" (seen here; celery/kombu#582, #970) instead of reconnecting."""

    def __init__(
        self, *, broker_url: str, database_url: str, env: dict | None = None, supervise=False
    ):
        self.broker_url = broker_url
        self.database_url = database_url
        self.extra_env = env or {}
        self.dir = Path(tempfile.mkdtemp(prefix="tds-celery-"))
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "worker.log"
        self.supervise = supervise
        self.restarts = 0
        self._stopping = threading.Event()

    def start(self) -> "CeleryWorker":
        self._spawn()
        if self.supervise:
            threading.Thread(target=self._supervisor, daemon=True).start()
        return self

    def _supervisor(self) -> None:
        while not self._stopping.wait(0.5):
            if self.proc is not None and self.proc.poll() is not None:
                self.restarts += 1
                self._spawn()

    def _spawn(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_RESULT_BACKEND": self.broker_url,
            "DJANGO_SETTINGS_MODULE": "prj_tds_new.settings",
            **self.extra_env,
        }
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "prj_tds_new", "worker", "-B",
                 "-s", str(self.dir / "beat-schedule"), "--pool", "solo", "-l", "info",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill9(self) -> None:
        self._stopping.set()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        self._stopping.set()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def celery_broker(app, url: str):
    """Points this process's Celery app at `url` for the block, then back; the app's cached
    connection and producer pools are dropped on both sides, or a later test in the same
    process would publish to the (stopped) private broker."""

    def reset_pools():
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        # kombu's process-wide producer pools still hold the closed connection pool:
        # a later send would fail with "Acquire on closed pool".
        kombu.pools.reset()

    previous = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = url
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset_pools()


@contextlib.contextmanager
def queue_worker(env: dict | None = None):
    """`celery worker` (solo pool, no beat) on a private queue of the shared Redis, against
    the database this process uses (the test database in tests), with `env` added; it
    inherits this run's settings module and Redis namespace (TDS_INSTALLATION). Yields the
    queue's name; stops the worker after."""
    from tds_testing.postgres import current_database_url
    from tds_testing.servers import stop

    queue = f"tds-test-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prj_tds_new", "worker", "-Q", queue,
         "--pool", "solo", "--concurrency", "1", "-l", "warning", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": current_database_url(), **(env or {})},
        stdout=subprocess.DEVNULL,  # nobody reads it: a pipe would fill and block the worker
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield queue
    finally:
        stop(proc)

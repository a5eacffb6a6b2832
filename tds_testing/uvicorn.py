"""The ASGI app under uvicorn on a free port, as production serves it (the live feed needs
ASGI), for browser tests and the dashboard bench."""

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .ports import free_port, wait_listening
from .servers import stop

ROOT = Path(__file__).resolve().parents[1]


class UvicornServer:
    """`uvicorn prj_tds_new.asgi:application` with the current environment plus `env`."""

    def __init__(self, *, env: dict | None = None, timeout: float = 30):
        self.port = free_port()
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one
        # would block it.
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "prj_tds_new.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "on"), **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        wait_listening(self.port, self.proc, timeout=timeout, what="uvicorn", log=self._log)

    def _log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop(self.proc)
        self.stderr.close()


@contextmanager
def serving_test_database(**env: str):
    """UvicornServer on the database and Redis this process uses (the test database in
    tests), DEBUG on, plus `env`; yields its base URL."""
    from django.conf import settings

    from .postgres import current_database_url

    server = UvicornServer(
        env={
            "DATABASE_URL": current_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_DEBUG": "on",
            **env,
        },
        timeout=20,
    )
    try:
        yield server.url
    finally:
        server.stop()

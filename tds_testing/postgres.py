"""A throwaway PostgreSQL cluster from Debian's binaries, in a temp dir on a free port,
so a test can stop and start the database under a running consumer."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tds_testing.mosquitto import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def current_database_url() -> str:
    """postgres:// URL of the database Django uses now (the test database in tests), for
    subprocesses (consumer, uvicorn) that must see the same rows."""
    from django.db import connection

    s = connection.settings_dict
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    user = s.get("USER") or "postgres"
    pw = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{pw}@{host}:{port}/{s['NAME']}"


def available() -> bool:
    return (BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser"))


class PrivatePostgres:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="tds-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as postgres
            shutil.chown(self.dir, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []

    def _run(self, *args, check=True):
        return subprocess.run(
            [*self.prefix, *args], check=check, capture_output=True, text=True, timeout=60
        )

    def init(self) -> "PrivatePostgres":
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self) -> "PrivatePostgres":
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        self._run(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False
        )

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        self.stop()
        time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)

"""Real servers for tests and benches: a private Redis, the web app under uvicorn, and
SSE clients that log in with their own session."""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .ports import free_port, wait_listening

ROOT = Path(__file__).resolve().parents[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    def err() -> str:
        return (
            proc.stderr.read().decode()[-2000:] if proc.stderr and proc.poll() is not None else ""
        )

    wait_listening(port, proc, timeout=timeout, what=str(proc.args[0]), log=err)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class PrivateRedis:
    """`redis-server` on a free loopback port, nothing persisted. `kill()` takes it away
    (as a crash would) and `start()` brings it back on the same port; `stop()` for good."""

    def __init__(self, *, maxclients: int = 10000):
        self.port = free_port()
        self.maxclients = maxclients
        self.dir = Path(tempfile.mkdtemp(prefix="tds-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "PrivateRedis":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxclients", str(self.maxclients), "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_port(self.port, self.proc, timeout=timeout)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_redis(*, maxclients: int = 10000):
    """A PrivateRedis for the block; yields its URL."""
    redis = PrivateRedis(maxclients=maxclients).start()
    try:
        yield redis.url
    finally:
        redis.stop()


@contextmanager
def uvicorn(*, env: dict, workers: int = 1, port: int | None = None, log: Path | None = None):
    """The web app (`uvicorn prj_tds_new.asgi:application`) with `env` added to this
    process's environment; yields (base URL, process). Its output goes to `log` (a
    temporary file when not given)."""
    port = port or free_port()
    args = [sys.executable, "-m", "uvicorn", "prj_tds_new.asgi:application", "--host",
            "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    if workers > 1:
        args += ["--workers", str(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        log = log or Path(tmp) / "uvicorn.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )
            try:
                try:
                    wait_port(port, proc)
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc}\n{log.read_text()[-3000:]}") from None
                yield f"http://127.0.0.1:{port}", proc
            finally:
                stop(proc)


async def sse_open(base: str, path: str, cookie: str, *, timeout: float = 30):
    """Opens an SSE stream with a session cookie; returns (status, reader, writer) once
    the headers (and, on 200, the first frame) have arrived."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
        f"Cookie: {cookie}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status = int(head.split(b" ", 2)[1])
    if status == 200:
        await asyncio.wait_for(reader.readuntil(b": connected\n\n"), timeout)
    return status, reader, writer


async def sse_next_event(reader, kind: str, timeout: float) -> bytes:
    """The data line of the next `event: <kind>` frame."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await asyncio.wait_for(reader.readuntil(b"\n\n"), deadline - time.monotonic())
        # Chunked transfer encoding: chunk sizes appear between frames; find the event.
        marker = f"event: {kind}\n".encode()
        if marker in frame:
            return frame[frame.index(marker) + len(marker) :]

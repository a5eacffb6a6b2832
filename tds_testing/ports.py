"""Free loopback ports and waiting for a started server to listen, for the servers tests
and benches start. No Django here: the notification receivers import it in a process of
their own."""

import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(
    port: int,
    proc: subprocess.Popen | None = None,
    *,
    timeout: float = 30,
    what: str = "server",
    log: Callable[[], str] = str,
) -> None:
    """Returns once 127.0.0.1:`port` accepts a connection. RuntimeError (with `log()`) when
    `proc` exits first or at the deadline, when `proc` is killed."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                if proc is not None:
                    proc.kill()
                    proc.wait()
                raise RuntimeError(f"{what} did not listen on {port}: {log()}") from None
            time.sleep(0.05)

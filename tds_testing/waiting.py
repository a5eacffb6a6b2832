"""Polling with a deadline, the one way tests and benches wait for something another
process or thread does (never a fixed sleep). No Django here."""

import time
from collections.abc import Callable


def wait_for(
    predicate: Callable,
    *,
    timeout: float = 30,
    interval: float = 0.1,
    what: str | None = None,
    log: Callable[[], str] | None = None,
):
    """Calls `predicate` every `interval` seconds until it returns something true, and
    returns that. At the deadline: with `what`, AssertionError "timed out ... waiting for
    <what>" (and `log()`, e.g. a worker's output); without, the last false value, for
    `assert wait_for(...), detail` or a caller that decides itself."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            if what is None:
                return value
            detail = f"\n{log()}" if log else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(interval)

"""Session-level advisory locks: a job that finds its lock taken skips this run, so
concurrent workers never do the same maintenance twice at once."""

import zlib
from contextlib import contextmanager

from django.db import connection


def lock_key(name: str) -> int:
    return zlib.crc32(f"tds_new:{name}".encode())


@contextmanager
def try_advisory_lock(name: str):
    """Yield True when the lock was acquired (and release it afterwards), else False."""
    key = lock_key(name)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cur.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])

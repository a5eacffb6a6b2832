"""The store-and-forward outbox: every message is written here (SQLite, WAL,
synchronous=FULL: on disk before the call returns) before it is published, and deleted
only after the broker confirmed it. Bounded by count and by age: past either bound the
oldest messages are dropped and counted (the count survives restarts).

One connection guarded by a lock, shared by the polling and the sending threads; every
statement is short (primary-key look-ups and ranges).
"""

import sqlite3
import threading
import time
from pathlib import Path


class Outbox:
    def __init__(
        self, path: str | Path, *, max_messages: int = 100_000, max_age: float = 7 * 86400
    ):
        self.path = str(path)
        self.max_messages = max_messages
        self.max_age = max_age
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " created REAL NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._count = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    # -- bookkeeping ---------------------------------------------------------------
    def meta_get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def meta_set(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def dropped(self) -> int:
        return int(self.meta_get("dropped", "0"))

    def __len__(self) -> int:
        return self._count

    # -- messages ------------------------------------------------------------------
    def add(self, items: list[tuple[str, bytes]], *, now: float | None = None) -> list[int]:
        """Stores messages (topic, payload) in one transaction; returns their ids."""
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    self._db.execute(
                        "INSERT INTO outbox (created, topic, payload) VALUES (?, ?, ?)",
                        (now, t, p),
                    ).lastrowid
                    for t, p in items
                ]
                self._count += len(items)
                dropped = self._enforce_bounds(now)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._count = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]
                raise
        return [i for i in ids if i not in dropped]

    def _enforce_bounds(self, now: float) -> set[int]:
        dropped: set[int] = set()
        cur = self._db.execute(
            "DELETE FROM outbox WHERE created < ? RETURNING id", (now - self.max_age,)
        )
        dropped.update(r[0] for r in cur.fetchall())
        excess = self._count - len(dropped) - self.max_messages
        if excess > 0:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)"
                " RETURNING id",
                (excess,),
            )
            dropped.update(r[0] for r in cur.fetchall())
        if dropped:
            self._count -= len(dropped)
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('dropped', ?) ON CONFLICT(key)"
                " DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                (len(dropped),),
            )
        return dropped

    def oldest(
        self, limit: int, *, exclude: set[int] = frozenset()
    ) -> list[tuple[int, str, bytes]]:
        """The oldest messages not in `exclude` (in flight or waiting for a retry)."""
        out: list[tuple[int, str, bytes]] = []
        after = 0
        with self._lock:
            while len(out) < limit:
                rows = self._db.execute(
                    "SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                    (after, limit + len(exclude)),
                ).fetchall()
                if not rows:
                    break
                out.extend(r for r in rows if r[0] not in exclude)
                after = rows[-1][0]
        return out[:limit]

    def get(self, ids: list[int]) -> list[tuple[int, str, bytes]]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock:
            return self._db.execute(
                f"SELECT id, topic, payload FROM outbox WHERE id IN ({marks}) ORDER BY id",  # noqa: S608
                ids,
            ).fetchall()

    def delete(self, ids: list[int]) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        with self._lock:
            n = self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", ids).rowcount  # noqa: S608
            self._count -= n

    def oldest_created(self) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT created FROM outbox ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""The storage maintenance job (`maintain_partitions`, through the back end) and the
native back end's day partitions of the readings table: created ahead and dropped past
retention; readings that landed in the DEFAULT partition move into the day partition
when it is created. (On TimescaleDB chunks and retention are the extension's job: see
timescale.TimescaleBackend.maintain.)

Day partitions are UTC days named tds_new_leitura_dispositivo_pYYYYMMDD.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .backend import current
from .locks import try_advisory_lock
from .tables import DEFAULT_PARTITION, READINGS

AHEAD_DAYS = 7
_NAME = re.compile(rf"^{READINGS}_p(\d{{8}})$")


class MaintenanceResult(NamedTuple):
    skipped: bool
    created: list[date]
    dropped: list[date]
    moved: int  # rows moved out of the default partition
    purged: int  # rows past retention deleted from the default partition
    chunks_dropped: list[str] = []  # TimescaleDB: chunks past retention
    chunks_compressed: list[str] = []  # TimescaleDB: chunks compressed


class StorageMaintenanceError(Exception):
    """A maintenance step failed (the others ran); recorded on the admin's storage page."""


def partition_name(day: date) -> str:
    return f"{READINGS}_p{day:%Y%m%d}"


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def existing_partitions() -> set[date]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [READINGS],
        )
        names = [r[0] for r in cur.fetchall()]
    days = (m.group(1) for n in names if (m := _NAME.match(n)))
    return {date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in days}


def create_partition(day: date) -> int:
    """Create the partition of `day`, moving its rows out of the default partition.
    Returns the number of rows moved."""
    lo, hi = _start(day), _start(day + timedelta(days=1))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL lock_timeout = '30s'")
        # Inserts wait while the rows move. The parent is locked first, in the order an
        # insert takes its locks (parent, then partition): the other order deadlocks with
        # a concurrent insert routed to the default partition.
        cur.execute(f"LOCK TABLE {READINGS}, {DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE")
        cur.execute(
            f"CREATE TEMPORARY TABLE tds_new_moving ON COMMIT DROP AS"
            f" SELECT * FROM {DEFAULT_PARTITION} WHERE time >= %s AND time < %s",
            [lo, hi],
        )
        cur.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE time >= %s AND time < %s", [lo, hi])
        moved = cur.rowcount
        cur.execute(
            f"CREATE TABLE {partition_name(day)} PARTITION OF {READINGS}"
            " FOR VALUES FROM (%s) TO (%s)",
            [lo, hi],
        )
        cur.execute(f"INSERT INTO {READINGS} SELECT * FROM tds_new_moving")
    return moved


def maintain_partitions(*, today: date | None = None) -> MaintenanceResult:
    """The periodic storage job of the back end in use."""
    return current().maintain(today=today)


def maintain_day_partitions(*, today: date | None = None) -> MaintenanceResult:
    """Idempotent; a concurrent run skips. Creates yesterday .. today + AHEAD_DAYS and
    every day within retention that has rows in the default partition; drops day
    partitions older than the retention and purges such rows from the default one."""
    with try_advisory_lock("maintain_partitions") as acquired:
        if not acquired:
            return MaintenanceResult(True, [], [], 0, 0)
        today = today or timezone.now().astimezone(UTC).date()
        cutoff = today - timedelta(days=settings.TDS_RETENTION_DAYS)
        horizon = today + timedelta(days=AHEAD_DAYS)
        existing = existing_partitions()
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT DISTINCT (time AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION}"
                " WHERE time >= %s AND time < %s",
                [_start(cutoff), _start(horizon + timedelta(days=1))],
            )
            in_default = {r[0] for r in cur.fetchall()}
        wanted = {today + timedelta(days=i) for i in range(-1, AHEAD_DAYS + 1)} | in_default
        created, moved = [], 0
        for day in sorted(wanted - existing):
            moved += create_partition(day)
            created.append(day)
        dropped = sorted(d for d in existing if d < cutoff)
        with transaction.atomic(), connection.cursor() as cur:
            for day in dropped:
                cur.execute(f"DROP TABLE {partition_name(day)}")
            cur.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE time < %s", [_start(cutoff)])
            purged = cur.rowcount
        return MaintenanceResult(False, created, dropped, moved, purged)

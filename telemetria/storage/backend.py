"""Which back end: decided once by the migration (TDS_TIMESCALE), recorded, then read;
and what a back end does (`Backend`), implemented by native.py and timescale.py.

Everything that differs between the two goes through `current()`: no other module
asks which back end is in use.
"""

import logging
from datetime import date, datetime
from functools import cache
from typing import NamedTuple, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction

NATIVE = "native"
TIMESCALEDB = "timescaledb"
BACKEND_TABLE = "tds_new_storage_backend"

log = logging.getLogger(__name__)


class TimescaleStatus(NamedTuple):
    installed: bool  # CREATE EXTENSION already done in this database
    available: bool  # the package is installed on the server
    preloaded: bool  # 'timescaledb' in shared_preload_libraries


def timescale_status(cursor) -> TimescaleStatus:
    """What the server offers, read without touching the extension: CREATE EXTENSION on a
    server where it is installed but not preloaded answers FATAL and kills the
    connection (migrate then failed with "the connection is closed")."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'),"
        " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),"
        " current_setting('shared_preload_libraries')"
    )
    installed, available, preload = cursor.fetchone()
    libraries = {lib.strip().strip('"').lower() for lib in preload.split(",")}
    return TimescaleStatus(installed, available, "timescaledb" in libraries)


def timescale_unusable_reason(status: TimescaleStatus) -> str:
    """Why TimescaleDB cannot be used on this server, or "" when it can."""
    if status.installed or (status.available and status.preloaded):
        return ""
    if not status.available:
        return "the timescaledb extension is not installed on the PostgreSQL server"
    return (
        "the timescaledb extension is installed but not preloaded: add"
        " shared_preload_libraries = 'timescaledb' to postgresql.conf (timescaledb-tune"
        " does it) and restart PostgreSQL"
    )


def choose_backend(schema_editor) -> tuple[str, str]:
    """Return (back end, extension version) for the database being migrated.

    `auto` uses TimescaleDB when the server has it available and preloaded, and falls
    back to the native back end (with a warning when the extension is there but not
    preloaded) otherwise; `on` fails with the reason; `off` never tries.
    """
    mode = str(settings.TDS_TIMESCALE).strip().lower()
    if mode not in ("auto", "on", "off"):
        raise ImproperlyConfigured(f"TDS_TIMESCALE must be auto, on or off, not {mode!r}.")
    if mode == "off":
        return NATIVE, ""
    conn = schema_editor.connection
    with conn.cursor() as cur:
        reason = timescale_unusable_reason(timescale_status(cur))
    if reason:
        if mode == "on":
            raise ImproperlyConfigured(f"TDS_TIMESCALE=on but {reason}.")
        if "preloaded" in reason:
            log.warning("TDS_TIMESCALE=auto: using native PostgreSQL storage: %s.", reason)
        return NATIVE, ""
    try:
        with transaction.atomic(using=conn.alias), conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
            version = cur.fetchone()[0]
    except DatabaseError as exc:
        if mode == "on":
            raise ImproperlyConfigured(
                f"TDS_TIMESCALE=on but the TimescaleDB extension cannot be created: {exc}"
            ) from exc
        log.warning("TDS_TIMESCALE=auto: using native PostgreSQL storage: %s", exc)
        return NATIVE, ""
    return TIMESCALEDB, version


def record_backend(schema_editor, *, nome: str, versao: str) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"DELETE FROM {BACKEND_TABLE}")
        cur.execute(
            f"INSERT INTO {BACKEND_TABLE} (nome, modo, versao_extensao) VALUES (%s, %s, %s)",
            [nome, str(settings.TDS_TIMESCALE).lower(), versao],
        )


@cache
def _backend_for(db_name: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT nome FROM {BACKEND_TABLE} ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    if row is None:
        raise ImproperlyConfigured("No storage back end recorded: run `manage.py migrate`.")
    return row[0]


def backend_name() -> str:
    """'native' or 'timescaledb' for the current database (cached per database name)."""
    return _backend_for(connection.settings_dict["NAME"])


def is_timescale() -> bool:
    """For tests and diagnostics; the code uses current()."""
    return backend_name() == TIMESCALEDB


class Backend(Protocol):
    name: str

    def create_schema(self, cur, readings_columns_ddl: str) -> None:
        """The readings table and the daily/monthly aggregates (migration)."""

    def drop_schema(self, cur) -> None:
        """Undo create_schema, when its objects exist (migration rollback)."""

    def refresh_outside_transaction(self, *, days: list[datetime]) -> None:
        """The part of the rollup refresh that must run outside a transaction, for the
        day buckets `days` (before refresh_in_transaction)."""

    def refresh_in_transaction(self, cur, *, claimed: str, params: dict) -> None:
        """Recompute the daily and monthly aggregates of the (dispositivo_id, bucket)
        pairs of the SQL relation `claimed`, in the rollup job's transaction."""

    def maintain(self, *, today: date | None = None):
        """The periodic storage job: partitions ahead and past retention, or the
        retention policy. Returns a partitions.MaintenanceResult."""

    def prepare_days(self, first: date, last: date) -> None:
        """Make the days [first, last] (UTC) ready for readings as production has them
        (bulk loads in benches: day partitions rather than the DEFAULT partition)."""


def backend_for(name: str) -> Backend:
    from . import native, timescale

    return {NATIVE: native.BACKEND, TIMESCALEDB: timescale.BACKEND}[name]


def current() -> Backend:
    """The back end of the current database."""
    return backend_for(backend_name())


def backend_details() -> dict:
    """What the migration recorded, plus the retention in force; for the command and admin."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT nome, modo, versao_extensao, created_at FROM {BACKEND_TABLE}"
            " ORDER BY id DESC LIMIT 1"
        )
        row = cur.fetchone()
    if row is None:
        return {}
    return {
        "backend": row[0],
        "TDS_TIMESCALE (at migration)": row[1],
        "timescaledb version": row[2] or "-",
        "chosen at": row[3].isoformat(),
        "TDS_TIMESCALE (now)": settings.TDS_TIMESCALE,
        "retention days": settings.TDS_RETENTION_DAYS,
    }

"""Readings for tests: aware datetimes and rows stored through the storage API."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from telemetria.storage import ReadingRow, insert_readings


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args) -> datetime:
    """A wall-clock time in America/Sao_Paulo (settings.TIME_ZONE)."""
    return datetime(*args, tzinfo=ZoneInfo("America/Sao_Paulo"))


def row(dispositivo, time, valor, payload=None) -> ReadingRow:
    return ReadingRow(
        time=time,
        conta_id=dispositivo.conta_id,
        gateway_id=dispositivo.gateway_id,
        dispositivo_id=dispositivo.pk,
        valor=Decimal(str(valor)),
        unidade=dispositivo.unidade,
        payload_raw=payload,
    )


def truncate_storage() -> None:
    """Empties the storage tables, for transactional tests: Django's flush does not know
    them."""
    from django.db import connection

    from telemetria.storage import is_timescale
    from telemetria.storage.tables import (
        DAILY,
        MONTH_RESETS,
        MONTHLY,
        PENDING,
        READINGS,
        RESETS,
        TOTALS,
    )

    tables = [
        READINGS,
        PENDING,
        RESETS,
        MONTH_RESETS,
        *TOTALS,
    ] + ([] if is_timescale() else [DAILY, MONTHLY])
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)}")
        # continuous aggregates cannot be truncated: refresh them empty (not possible, and
        # not needed, inside a test's transaction, which rolls everything back)
        if is_timescale() and not connection.in_atomic_block:
            for view in (DAILY, MONTHLY):
                cur.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", [view])


def store_points(dispositivo, points):
    """Stores [(aware datetime, value)] through the storage API -> InsertResult."""
    return insert_readings([row(dispositivo, t, v) for t, v in points])

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


def store_points(dispositivo, points):
    """Stores [(aware datetime, value)] through the storage API -> InsertResult."""
    return insert_readings([row(dispositivo, t, v) for t, v in points])

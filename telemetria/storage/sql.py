"""Helpers every storage module uses to write and run SQL: the one way the time zone
enters SQL (`tz_literal`), local midnights, running a query, and the account's devices."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from .tables import DEVICES


def tz_literal() -> str:
    """The project's time zone (settings.TIME_ZONE) as a SQL string literal, validated
    against the tz database. Every local-day or local-month expression uses it."""
    name = settings.TIME_ZONE
    ZoneInfo(name)  # raises for anything that is not a zone name
    return "'" + name.replace("'", "") + "'"


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone())


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def device_kinds(conta_id: int, dispositivo_ids=None) -> dict[int, str]:
    """{id: tipo_medidor} of the account's devices (of those in `dispositivo_ids`), by id:
    a device of another account is simply absent."""
    sql = f"SELECT id, tipo_medidor FROM {DEVICES} WHERE conta_id = %s"
    params: list = [conta_id]
    if dispositivo_ids is not None:
        sql += " AND id = ANY(%s)"
        params.append(list(dispositivo_ids))
    return dict(fetch(sql + " ORDER BY id", params))

"""The newest readings: an account's latest readings, each device's last reading, and
how many readings arrived in a period (the dashboard's "today" card).

Both "latest" queries look at the last RECENT first (few partitions or chunks to probe,
pruned at plan time) and widen to all time only for what they did not find there.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from .sql import fetch
from .tables import DEVICES, GATEWAYS, READINGS

RECENT = timedelta(days=1)
_ALL_TIME = datetime(1, 1, 2, tzinfo=UTC)  # no lower bound


class LatestReading(NamedTuple):
    time: datetime
    valor: Decimal
    unidade: str
    dispositivo_id: int
    dispositivo_codigo: str
    gateway_id: int
    gateway_codigo: str
    dispositivo_nome: str = ""


class DeviceLatest(NamedTuple):
    time: datetime
    gateway_id: int
    dispositivo_id: int
    valor: Decimal
    unidade: str


def latest_readings_for_conta(
    *, conta_id: int, limit: int = 20, dispositivo_id: int | None = None
) -> list[LatestReading]:
    """The account's most recent readings (by reading time), newest first; readings of
    the same instant in device id order, so a page and the next agree."""
    # The page of readings first, then the names: when thousands of meters share the
    # newest instant, joining before the LIMIT joined all of them (80,000 rows, half of
    # a 1 s query on bench/big_account.py's 80,000-meter account).
    sql = f"""
        SELECT l.time, l.valor, l.unidade, l.dispositivo_id, d.codigo, l.gateway_id, g.codigo,
               d.nome
        FROM (
            SELECT time, valor, unidade, dispositivo_id, gateway_id FROM {READINGS}
            WHERE conta_id = %(conta)s AND time >= %(since)s {{device}}
            ORDER BY time DESC, dispositivo_id LIMIT %(limit)s
        ) AS l
        JOIN {DEVICES} AS d ON d.id = l.dispositivo_id
        JOIN {GATEWAYS} AS g ON g.id = l.gateway_id
        ORDER BY l.time DESC, l.dispositivo_id"""
    sql = sql.replace("{device}", "AND dispositivo_id = %(disp)s" if dispositivo_id else "")
    params = {"conta": conta_id, "limit": limit, "disp": dispositivo_id}
    rows = fetch(sql, {**params, "since": timezone.now() - RECENT})
    if len(rows) < limit:
        rows = fetch(sql, {**params, "since": _ALL_TIME})
    return [LatestReading(*row) for row in rows]


def latest_per_device(*, conta_id: int, dispositivo_ids: list[int]) -> dict[int, DeviceLatest]:
    """The newest reading of each device (of the account), by device id."""
    if not dispositivo_ids:
        return {}
    sql = f"""
        SELECT l.time, l.gateway_id, d.id, l.valor, l.unidade
        FROM unnest(%s::bigint[]) AS d(id)
        CROSS JOIN LATERAL (
            SELECT time, gateway_id, valor, unidade FROM {READINGS}
            WHERE dispositivo_id = d.id AND conta_id = %s AND time >= %s
            ORDER BY time DESC LIMIT 1
        ) l"""
    found = {
        row[2]: DeviceLatest(*row)
        for row in fetch(sql, [dispositivo_ids, conta_id, timezone.now() - RECENT])
    }
    missing = [i for i in dispositivo_ids if i not in found]
    if missing:
        for row in fetch(sql, [missing, conta_id, _ALL_TIME]):
            found[row[2]] = DeviceLatest(*row)
    return found


def readings_count(*, conta_id: int, start: datetime, end: datetime) -> int:
    """The account's readings with a time in [start, end)."""
    sql = f"SELECT count(*) FROM {READINGS} WHERE conta_id = %s AND time >= %s AND time < %s"
    return fetch(sql, [conta_id, start, end])[0][0]

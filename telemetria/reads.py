# ruff: noqa: S608 - SQL built from the table-name constant only; values are parameters
"""Dashboard reads of the readings table that the storage API does not offer: today's
count, the newest reading of each device, a device's series in sub-day buckets on the
dashboard's fixed origin, and CSV iteration. (Latest readings and consumption go through
telemetria.storage.)

The readings table (`tds_new_leitura_dispositivo`, PRIMARY KEY (dispositivo_id, time),
index (conta_id, time DESC)) is the same on both back ends, so these queries are back
end independent. Every query is limited to the account.
"""

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from .models import LeituraDispositivo
from .storage.tables import READINGS

# Buckets are aligned on local midnight (America/Sao_Paulo has no DST since 2019).
_ORIGIN = "2000-01-03 00:00:00"


class Reading(NamedTuple):
    time: dt.datetime
    gateway_id: int
    dispositivo_id: int
    valor: Decimal
    unidade: str


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def readings_count(*, conta_id: int, start: dt.datetime, end: dt.datetime) -> int:
    sql = f"SELECT count(*) FROM {READINGS} WHERE conta_id = %s AND time >= %s AND time < %s"
    return _fetch(sql, [conta_id, start, end])[0][0]


def latest_per_device(
    *, conta_id: int, dispositivo_ids: list[int], recent: dt.timedelta = dt.timedelta(days=2)
) -> dict[int, Reading]:
    """The newest reading of each device. Looks in the recent days first (few partitions
    to probe), then without a bound for the devices not found there."""
    if not dispositivo_ids:
        return {}
    sql = f"""
        SELECT l.time, l.gateway_id, d.id, l.valor, l.unidade
        FROM unnest(%s::bigint[]) AS d(id)
        CROSS JOIN LATERAL (
            SELECT time, gateway_id, valor, unidade FROM {READINGS}
            WHERE dispositivo_id = d.id AND conta_id = %s {{bound}}
            ORDER BY time DESC LIMIT 1
        ) l"""
    since = dt.datetime.now(dt.UTC) - recent
    found = {
        row[2]: Reading(*row)
        for row in _fetch(sql.format(bound="AND time >= %s"), [dispositivo_ids, conta_id, since])
    }
    missing = [i for i in dispositivo_ids if i not in found]
    if missing:
        for row in _fetch(sql.format(bound=""), [missing, conta_id]):
            found[row[2]] = Reading(*row)
    return found


def device_series(
    *,
    conta_id: int,
    dispositivo_id: int,
    start: dt.datetime,
    end: dt.datetime,
    bucket: dt.timedelta,
) -> list[dict]:
    sql = f"""
        SELECT date_bin(%s, time, %s::timestamp AT TIME ZONE %s) AS bucket,
               count(*), min(valor), max(valor), round(avg(valor), 4), sum(valor),
               (array_agg(valor ORDER BY time))[1], (array_agg(valor ORDER BY time DESC))[1]
        FROM {READINGS}
        WHERE dispositivo_id = (SELECT id FROM tds_new_dispositivo WHERE id = %s AND conta_id = %s)
          AND time >= %s AND time < %s
        GROUP BY 1 ORDER BY 1"""
    # The account is checked on the device, not on each reading: with `conta_id = ...` on
    # the readings the planner could pick the (conta_id, time) index and read every
    # device's readings of the period (seen: 62 ms instead of a few).
    params = [bucket, _ORIGIN, settings.TIME_ZONE, dispositivo_id, conta_id, start, end]
    keys = ("bucket", "n", "min", "max", "avg", "sum", "first", "last")
    return [dict(zip(keys, row, strict=True)) for row in _fetch(sql, params)]


def iter_readings(*, conta_id: int, dispositivo_ids: list[int], start, end, chunk_size: int = 2000):
    """(time, dispositivo_id, valor, unidade) oldest first, `chunk_size` rows at a time.

    Each chunk is one keyset query (the rows after the last one sent, in (time,
    dispositivo_id) order) in its own short transaction with a statement timeout, so a
    client reading slowly holds no transaction, snapshot or cursor between chunks (a
    server-side cursor kept a connection idle in transaction for the whole download).
    Call it inside the request's account scope: the query is built at once.
    """
    base = (
        LeituraDispositivo.objects.filter(
            conta_id=conta_id, dispositivo_id__in=dispositivo_ids, time__gte=start, time__lt=end
        )
        .order_by("time", "dispositivo_id")
        .values_list("time", "dispositivo_id", "valor", "unidade")
    )
    timeout_ms = int(settings.TDS_CSV_STATEMENT_TIMEOUT_MS)

    def rows():
        after = None
        while True:
            qs = base
            if after is not None:
                t, d = after
                qs = qs.filter(Q(time__gt=t) | Q(time=t, dispositivo_id__gt=d))
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    "SELECT set_config('statement_timeout', %s, true),"
                    " set_config('idle_in_transaction_session_timeout', %s, true)",
                    [str(timeout_ms), str(timeout_ms)],
                )
                chunk = list(qs[:chunk_size])
            yield from chunk
            if len(chunk) < chunk_size:
                return
            after = chunk[-1][:2]

    return rows()

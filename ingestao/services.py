"""Writes of the consumer: dead letters and the batch's gateway status, in the caller's
transaction."""

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django_scopes import scopes_disabled

from .models import MensagemRejeitada

# One statement for the whole batch. Only rows that change are locked (in id order, so
# concurrent consumers never deadlock on them) and written; `last_seen` moves in steps
# of at least `resolution` seconds so a busy gateway is not rewritten on every batch.
_TOUCH_SQL = """
WITH v(id, seen, online) AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(seen)s::timestamptz[], %(online)s::boolean[])
), locked AS (
    SELECT g.id, g.is_online AS was_online
    FROM tds_new_gateway g JOIN v ON v.id = g.id
    WHERE g.is_online IS DISTINCT FROM v.online
       OR (v.seen IS NOT NULL
           AND (g.last_seen IS NULL OR g.last_seen < v.seen - make_interval(secs => %(res)s)))
    ORDER BY g.id
    FOR UPDATE OF g
)
UPDATE tds_new_gateway g
SET last_seen = greatest(g.last_seen, v.seen), is_online = v.online, updated_at = now()
FROM v JOIN locked ON locked.id = v.id
WHERE g.id = v.id
RETURNING g.id, g.conta_id, g.is_online, g.last_seen, locked.was_online
"""


def gateways_touch(
    *, states: dict[int, tuple[dt.datetime | None, bool]], resolution: float = 1.0
) -> list[tuple[int, int, bool, dt.datetime | None]]:
    """Apply {gateway_id: (last heard or None, is_online)} in one UPDATE.

    Returns (id, conta_id, is_online, last_seen) of the gateways whose online flag changed.
    """
    if not states:
        return []
    ids = list(states)
    with connection.cursor() as cur:
        cur.execute(
            _TOUCH_SQL,
            {
                "ids": ids,
                "seen": [states[i][0] for i in ids],
                "online": [states[i][1] for i in ids],
                "res": resolution,
            },
        )
        rows = cur.fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[4] != r[2]]


def rejeitadas_store(*, items: Iterable[dict]) -> int:
    """Bulk-insert dead letters: dicts with recebida_em, topico, payload, motivo, detalhe,
    gateway_id, conta_id."""
    objs = [MensagemRejeitada(**item) for item in items]
    if objs:
        with scopes_disabled():
            MensagemRejeitada.objects.bulk_create(objs)
    return len(objs)

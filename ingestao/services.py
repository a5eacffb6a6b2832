"""Writes of the consumer: dead letters and the batch's gateway status, in the caller's
transaction."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django_scopes import scopes_disabled

from .models import ContagemRejeicoes, MensagemRejeitada
from .validation import topic_parts

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


_COUNT_SQL = """
INSERT INTO tds_new_contagem_rejeicoes AS c (fonte, hora, conta_id, gateway_id, quantidade)
SELECT * FROM unnest(%s::varchar[], %s::timestamptz[], %s::bigint[], %s::bigint[], %s::int[])
ON CONFLICT (fonte, hora) DO UPDATE
SET quantidade = c.quantidade + EXCLUDED.quantidade,
    conta_id = coalesce(EXCLUDED.conta_id, c.conta_id),
    gateway_id = coalesce(EXCLUDED.gateway_id, c.gateway_id)
RETURNING fonte, hora, quantidade
"""


def clean_text(value: str) -> str:
    """Text PostgreSQL stores: NUL and unencodable characters (lone surrogates) escaped."""
    if not value.isascii():
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value.replace("\x00", "\\x00")


def _source(item: dict) -> str:
    """Who a reject is counted against: the gateway, else the topic's MAC."""
    if item.get("gateway_id"):
        return f"gateway:{item['gateway_id']}"
    mac, _kind = topic_parts(item["topico"])
    return f"mac:{mac}" if mac else "topico-invalido"


def rejeitadas_store(*, items: Iterable[dict]) -> int:
    """Store dead letters (dicts with recebida_em, topico, payload, motivo, detalhe,
    gateway_id, conta_id) in the caller's transaction; returns how many rows were stored.

    Payloads are kept truncated to TDS_DEAD_LETTER_PAYLOAD_BYTES with their original
    size. Every reject is counted per source and hour (ContagemRejeicoes); past
    TDS_DEAD_LETTER_MAX_PER_HOUR in the hour, a source's rejects are only counted. The
    counter rows are updated in one statement, in key order (no deadlock between
    consumers), and decide under their row lock how many of the batch's rejects fit."""
    items = list(items)
    if not items:
        return 0
    keep = settings.TDS_DEAD_LETTER_PAYLOAD_BYTES
    limit = settings.TDS_DEAD_LETTER_MAX_PER_HOUR
    groups: dict[tuple[str, dt.datetime], list[dict]] = defaultdict(list)
    for item in items:
        hour = item["recebida_em"].astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        groups[(_source(item), hour)].append(item)
    keys = sorted(groups)
    with connection.cursor() as cur:
        cur.execute(
            _COUNT_SQL,
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [groups[k][0]["conta_id"] for k in keys],
                [groups[k][0]["gateway_id"] for k in keys],
                [len(groups[k]) for k in keys],
            ],
        )
        totals = {(fonte, hora): n for fonte, hora, n in cur.fetchall()}
    objs = []
    for key in keys:
        group = groups[key]
        before = totals[key] - len(group)
        for item in group[: max(0, limit - before)]:
            payload = bytes(item["payload"] or b"")
            objs.append(
                MensagemRejeitada(
                    recebida_em=item["recebida_em"],
                    topico=clean_text(item["topico"])[:1024],
                    payload=payload[:keep],
                    tamanho_payload=len(payload),
                    motivo=item["motivo"],
                    detalhe=clean_text(item["detalhe"] or "")[:2000],
                    gateway_id=item["gateway_id"],
                    conta_id=item["conta_id"],
                )
            )
    if objs:
        with scopes_disabled():
            MensagemRejeitada.objects.bulk_create(objs)
    return len(objs)


def rejeitadas_purge(*, before: dt.datetime, chunk: int = 10_000) -> int:
    """Delete dead letters and reject counts older than `before`, a chunk per transaction
    (short locks while the consumer writes). Returns the dead letters deleted."""
    deleted = 0
    with scopes_disabled():
        while True:
            with transaction.atomic():
                ids = list(
                    MensagemRejeitada.objects.filter(recebida_em__lt=before).values_list(
                        "pk", flat=True
                    )[:chunk]
                )
                if not ids:
                    break
                MensagemRejeitada.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
        ContagemRejeicoes.objects.filter(hora__lt=before).delete()
    return deleted

"""Writes of the consumer: dead letters, in the caller's transaction. (Gateway status is
dispositivos' to write: dispositivos.services.gateways_touch.)"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django_scopes import scopes_disabled

from tds_core.wire import topic_parts

from .models import ContagemRejeicoes, MensagemRejeitada

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

"""Readings for export (CSV): every reading of some devices in a period, streamed."""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from ..models import LeituraDispositivo


def iter_readings(*, conta_id: int, dispositivo_ids: list[int], start, end, chunk_size: int = 2000):
    """(time, dispositivo_id, valor, unidade) oldest first, `chunk_size` rows at a time.

    Each chunk is one keyset query (the rows after the last one sent, in (time,
    dispositivo_id) order) in its own short transaction with statement and
    idle-in-transaction timeouts, so a client reading slowly holds no transaction,
    snapshot or cursor between chunks (a server-side cursor kept a connection idle in
    transaction for the whole download). Call it inside the request's account scope: the
    query is built at once.
    """
    base = (
        LeituraDispositivo.objects.filter(
            conta_id=conta_id, dispositivo_id__in=dispositivo_ids, time__gte=start, time__lt=end
        )
        .order_by("time", "dispositivo_id")
        .values_list("time", "dispositivo_id", "valor", "unidade")
    )
    timeout_ms = str(int(settings.TDS_CSV_STATEMENT_TIMEOUT_MS))

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
                    [timeout_ms, timeout_ms],
                )
                chunk = list(qs[:chunk_size])
            yield from chunk
            if len(chunk) < chunk_size:
                return
            after = chunk[-1][:2]

    return rows()

"""Readings for export (CSV): every reading of some devices in a period, streamed."""

from django.db import transaction

from ..models import LeituraDispositivo


def iter_readings(*, conta_id: int, dispositivo_ids: list[int], start, end, chunk_size: int = 2000):
    """(time, dispositivo_id, valor, unidade) oldest first, through a server-side cursor.

    Call it inside the request's account scope; the rows are fetched lazily, `chunk_size`
    at a time, in a transaction (so the cursor is not WITH HOLD, which would make
    PostgreSQL materialize the whole result before the first row).
    """
    qs = (
        LeituraDispositivo.objects.filter(
            conta_id=conta_id, dispositivo_id__in=dispositivo_ids, time__gte=start, time__lt=end
        )
        .order_by("time", "dispositivo_id")
        .values_list("time", "dispositivo_id", "valor", "unidade")
    )

    def rows():
        with transaction.atomic():
            yield from qs.iterator(chunk_size=chunk_size)

    return rows()

"""Gateway online/offline detection.

A gateway is offline when nothing was heard from it for `TDS_OFFLINE_AFTER_INTERVALS`
times its own reporting interval (`intervalo_envio_segundos`). The MQTT consumer puts
it back online on its next message; this module only takes it offline. Each change is
pushed to open dashboards as a `gateway_status` live event, after commit.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone

from telemetria.live import publish_live_event

from .models import Gateway

log = logging.getLogger(__name__)


def offline_after_intervals() -> int:
    return max(1, int(getattr(settings, "TDS_OFFLINE_AFTER_INTERVALS", 3)))


def gateway_status_event(*, gateway_id: int, is_online: bool, last_seen) -> dict:
    """The live event shape of telemetria/live.py."""
    return {
        "type": "gateway_status",
        "gateway_id": gateway_id,
        "is_online": is_online,
        "last_seen": last_seen.isoformat() if last_seen else None,
    }


def gateways_mark_offline(*, now: dt.datetime | None = None) -> list[int]:
    """Marks silent gateways offline; returns their ids.

    Runs across accounts: the caller (a Celery task) disables scopes. The rows are
    locked (SKIP LOCKED) and re-checked in the same statement, so a gateway the
    consumer is just putting back online is left alone.
    """
    now = now or timezone.now()
    multiple = offline_after_intervals()
    deadline = ExpressionWrapper(
        F("last_seen") + F("intervalo_envio_segundos") * dt.timedelta(seconds=multiple),
        output_field=DateTimeField(),
    )
    with transaction.atomic():
        silent = (
            Gateway.objects.select_for_update(skip_locked=True)
            .annotate(deadline=deadline)
            .filter(is_online=True)
            .filter(Q(last_seen__isnull=True) | Q(deadline__lt=now))
            .values_list("pk", "conta_id", "last_seen")
        )
        rows = list(silent)
        if not rows:
            return []
        Gateway.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            is_online=False, updated_at=now
        )
        for pk, conta_id, last_seen in rows:
            event = gateway_status_event(gateway_id=pk, is_online=False, last_seen=last_seen)
            transaction.on_commit(
                lambda c=conta_id, e=event: publish_live_event(conta_id=c, event=e)
            )
    log.info("marked %d gateway(s) offline: %s", len(rows), [pk for pk, _, _ in rows])
    return [pk for pk, _, _ in rows]

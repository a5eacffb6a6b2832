"""Live events for open dashboards, over Redis pub/sub, one channel per account: each
event is defined once here, with a typed constructor that producers and tests use.

Publishers (the consumer's pipeline after commit, gateway status in dispositivos'
services) call `publish_live_event(conta_id=..., event=<constructor>(...))`; the SSE view
subscribes to `live_channel(conta_id)` only, so nobody receives another account's events,
and forwards only the types in EVENT_TYPES.

Every timestamp is ISO 8601 in UTC with `Z` (`timestamp()`).
"""

import datetime as dt
import logging
from decimal import Decimal

import msgspec
import redis
from django.conf import settings

from .installation import redis_name
from .wire import format_timestamp

log = logging.getLogger(__name__)

READINGS = "readings"
GATEWAY_STATUS = "gateway_status"
ALARM = "alarm"
EVENT_TYPES = frozenset({READINGS, GATEWAY_STATUS, ALARM})
# Control event, never forwarded as such: the SSE view ends the named user's streams.
ACCESS_REVOKED = "access_revoked"


def timestamp(when: dt.datetime | None) -> str | None:
    """The one timestamp format of live events (None stays None)."""
    return format_timestamp(when) if when is not None else None


def reading(
    *,
    gateway_id: int,
    dispositivo_id: int,
    dispositivo_codigo: str,
    time: dt.datetime,
    valor: Decimal,
    unidade: str,
) -> dict:
    """One reading of a `readings` event (`valor` as a string: exact decimal)."""
    return {
        "gateway_id": gateway_id,
        "dispositivo_id": dispositivo_id,
        "dispositivo_codigo": dispositivo_codigo,
        "time": timestamp(time),
        "valor": str(valor),
        "unidade": unidade,
    }


def readings_event(*, readings: list[dict]) -> dict:
    """`{"type": "readings", "readings": [reading(...), ...]}`: newly stored readings."""
    return {"type": READINGS, "readings": readings}


def gateway_status_event(
    *, gateway_id: int, is_online: bool, last_seen: dt.datetime | None
) -> dict:
    """`{"type": "gateway_status", "gateway_id", "is_online", "last_seen"}`: a gateway
    went online or offline."""
    return {
        "type": GATEWAY_STATUS,
        "gateway_id": gateway_id,
        "is_online": is_online,
        "last_seen": timestamp(last_seen),
    }


def alarm_event(*, abertos: int, alarme: dict) -> dict:
    """`{"type": "alarm", "abertos", "alarme": {...}}`: an alarm was fired, acknowledged,
    closed or commented; `abertos` is the account's open-alarm count after it, `alarme`
    the alarm as alarmes.events.alarm_payload shapes it (timestamps by `timestamp()`)."""
    return {"type": ALARM, "abertos": abertos, "alarme": alarme}


def access_revoked_event(*, user_id: int) -> dict:
    """`{"type": "access_revoked", "user_id"}`: that user left the account (removed,
    invitation declined); their open streams on the account end."""
    return {"type": ACCESS_REVOKED, "user_id": user_id}


def revoked_user(data: bytes | str) -> int | None:
    """The user id of an encoded access_revoked event, else None."""
    try:
        event = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None
    if isinstance(event, dict) and event.get("type") == ACCESS_REVOKED:
        return event.get("user_id")
    return None


def event_type(data: bytes | str) -> str | None:
    """The type of an encoded event when it is one of EVENT_TYPES, else None."""
    try:
        kind = msgspec.json.decode(data).get("type")
    except (msgspec.DecodeError, AttributeError):
        return None
    return kind if kind in EVENT_TYPES else None


def live_channel(conta_id: int) -> str:
    return redis_name("live", "conta", conta_id)


_client: redis.Redis | None = None
# The consumer publishes up to a thousand readings per event: msgspec is much faster
# than json.dumps here; what it cannot encode natively becomes str.
_encode = msgspec.json.Encoder(enc_hook=str).encode


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def publish_live_event(*, conta_id: int, event: dict) -> None:
    """Best effort: what the event announces is already stored; a lost live event only
    means the dashboard shows it on its next poll."""
    try:
        _redis().publish(live_channel(conta_id), _encode(event))
    except redis.RedisError:
        log.warning("live event for conta %s not published (Redis unavailable)", conta_id)

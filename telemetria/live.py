"""Live events for open dashboards, over Redis pub/sub, one channel per account.

Publishers (the MQTT consumer after commit, the gateway-status job) call
`publish_live_event`; the SSE view subscribes to `live_channel(conta_id)` only, so
nobody receives another account's events.

Event shapes (JSON):
  {"type": "readings", "readings": [{"gateway_id", "dispositivo_id", "dispositivo_codigo",
                                      "time" (ISO 8601 UTC), "valor" (str), "unidade"}, ...]}
  {"type": "gateway_status", "gateway_id", "is_online", "last_seen" (ISO 8601 or null)}
"""

import logging

import msgspec
import redis
from django.conf import settings

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "tds:live:conta:"

_client: redis.Redis | None = None
# The consumer publishes up to a thousand readings per event: msgspec is much faster
# than json.dumps here; what it cannot encode natively becomes str.
_encode = msgspec.json.Encoder(enc_hook=str).encode


def live_channel(conta_id: int) -> str:
    """The account's channel, within this installation's namespace (settings.TDS_INSTALLATION)."""
    ns = f"{settings.TDS_INSTALLATION}:" if settings.TDS_INSTALLATION else ""
    return f"{ns}{CHANNEL_PREFIX}{conta_id}"


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def publish_live_event(*, conta_id: int, event: dict) -> None:
    """Best effort: the reading is already stored; a lost live event only means the
    dashboard shows it on its next poll."""
    try:
        _redis().publish(live_channel(conta_id), _encode(event))
    except redis.RedisError:
        log.warning("live event for conta %s not published (Redis unavailable)", conta_id)

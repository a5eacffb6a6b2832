"""Registry change notifications, so running consumers refresh their caches.

After a gateway or device is created, changed or deleted (and the transaction has
committed), a message goes to the Redis channel `registry_channel()`; the MQTT consumer
drops its registry cache when it hears one.
"""

import logging

import redis
from django.conf import settings

from tds_core.installation import redis_name

log = logging.getLogger(__name__)


def registry_channel() -> str:
    return redis_name("registry", "changed")


def publish_registry_changed(*, conta_id: int) -> None:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.publish(registry_channel(), str(conta_id))
        client.close()
    except redis.RedisError:
        # Consumers also refresh their cache periodically; a lost notice only delays.
        log.warning("registry change notice not published (Redis unavailable)")

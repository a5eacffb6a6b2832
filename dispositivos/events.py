"""Registry change notifications, so running consumers refresh their caches.

After a gateway or device is created, changed or deleted (and the transaction has
committed), a message goes to the Redis channel REGISTRY_CHANNEL; the MQTT consumer
drops its registry cache when it hears one.
"""

import logging

import redis
from django.conf import settings

log = logging.getLogger(__name__)

REGISTRY_CHANNEL = "tds:registry:changed"


def publish_registry_changed(*, conta_id: int) -> None:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.publish(REGISTRY_CHANNEL, str(conta_id))
        client.close()
    except redis.RedisError:
        # Consumers also refresh their cache periodically; a lost notice only delays.
        log.warning("registry change notice not published (Redis unavailable)")

"""Two installations on one Redis never see each other's events (issue 12, item 10)."""

import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from dispositivos.events import publish_registry_changed, registry_channel
from tds_core.installation import namespace
from tds_core.live import live_channel, publish_live_event


def _received(pubsub, deadline_s: float = 1.0) -> list[bytes]:
    got, deadline = [], time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message:
            got.append(message["data"])
    return got


@pytest.fixture
def names():
    """Two installation names of this test alone (runs share the Redis)."""
    tag = uuid.uuid4().hex[:8]
    return f"alpha-{tag}", f"beta-{tag}"


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def _subscribe_as(installation, settings, redis_client, channel_of):
    settings.TDS_INSTALLATION = installation
    pubsub = redis_client.pubsub()
    pubsub.subscribe(channel_of())
    pubsub.get_message(timeout=1.0)  # subscribe confirmation
    return pubsub


def test_live_events_stay_in_their_installation(settings, redis_client, names):
    alpha = _subscribe_as(names[0], settings, redis_client, lambda: live_channel(1))
    beta = _subscribe_as(names[1], settings, redis_client, lambda: live_channel(1))

    settings.TDS_INSTALLATION = names[0]
    publish_live_event(conta_id=1, event={"type": "readings", "readings": []})

    assert len(_received(alpha)) == 1
    assert _received(beta, deadline_s=0.3) == []


def test_registry_notices_stay_in_their_installation(settings, redis_client, db, names):
    alpha = _subscribe_as(names[0], settings, redis_client, registry_channel)
    beta = _subscribe_as(names[1], settings, redis_client, registry_channel)

    settings.TDS_INSTALLATION = names[1]
    publish_registry_changed(conta_id=7)

    assert _received(beta) == [b"7"]
    assert _received(alpha, deadline_s=0.3) == []


def test_cache_keys_are_namespaced(settings, names):
    settings.TDS_INSTALLATION = names[0]
    cache.set("k", "from alpha", 30)
    settings.TDS_INSTALLATION = names[1]
    assert cache.get("k") is None
    cache.set("k", "from beta", 30)
    settings.TDS_INSTALLATION = names[0]
    assert cache.get("k") == "from alpha"


def test_default_namespace_is_the_database(settings, db):
    settings.TDS_INSTALLATION = ""
    assert namespace().endswith("/" + settings.DATABASES["default"]["NAME"])

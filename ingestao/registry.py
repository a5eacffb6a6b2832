"""In-memory registry for the consumer: MAC -> gateway with its devices by código.

Loaded once, then refreshed for one account when dispositivos.events announces a change
on Redis (`registry_channel()`) and fully every `refresh_seconds` as a safety net. Lookups
never query the database.
"""

import logging
import threading
import time
from decimal import Decimal
from typing import NamedTuple

import redis
from django.conf import settings
from django_scopes import scopes_disabled

from dispositivos.events import registry_channel
from dispositivos.models import Dispositivo, Gateway

log = logging.getLogger(__name__)

ALL = "*"


class DeviceEntry(NamedTuple):
    id: int
    codigo: str
    fator: Decimal
    unidade: str
    is_active: bool


class GatewayEntry(NamedTuple):
    id: int
    conta_id: int
    mac: str
    is_active: bool  # gateway and its account both active
    devices: dict  # codigo -> DeviceEntry


def load_gateways(*, conta_id: int | None = None) -> dict[str, GatewayEntry]:
    """Two queries for all gateways (or one account's), keyed by normalized MAC."""
    with scopes_disabled():
        gws = Gateway.objects.select_related("conta")
        devs = Dispositivo.objects.all()
        if conta_id is not None:
            gws = gws.filter(conta_id=conta_id)
            devs = devs.filter(conta_id=conta_id)
        by_gateway: dict[int, dict] = {}
        for d in devs.values_list(
            "id", "gateway_id", "codigo", "fator_conversao", "unidade", "is_active"
        ):
            by_gateway.setdefault(d[1], {})[d[2]] = DeviceEntry(d[0], d[2], d[3], d[4], d[5])
        return {
            g.mac: GatewayEntry(
                g.id, g.conta_id, g.mac, g.is_active and g.conta.is_active, by_gateway.get(g.id, {})
            )
            for g in gws
        }


class RegistryCache:
    def __init__(self, *, refresh_seconds: float = 60.0, redis_url: str | None = None):
        self.refresh_seconds = refresh_seconds
        self.redis_url = redis_url or settings.REDIS_URL
        self._by_mac: dict[str, GatewayEntry] = {}
        self._dirty: set = set()
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._notice_callbacks: list = []  # called (listener thread) on each change notice
        self.reloads = 0

    # -- lookups (main thread) -------------------------------------------------
    def get(self, mac: str) -> GatewayEntry | None:
        return self._by_mac.get(mac)

    def refresh_if_needed(self) -> None:
        """Apply pending invalidations; full reload when due. Call from the DB thread."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        if ALL in dirty or time.monotonic() - self._loaded_at >= self.refresh_seconds:
            self.reload()
            return
        for conta_id in dirty:
            fresh = load_gateways(conta_id=conta_id)
            merged = {m: g for m, g in self._by_mac.items() if g.conta_id != conta_id}
            merged.update(fresh)
            self._by_mac = merged
            self.reloads += 1
            log.info("event=registry_reload conta=%s gateways=%d", conta_id, len(fresh))

    def reload(self) -> None:
        self._by_mac = load_gateways()
        self._loaded_at = time.monotonic()
        self.reloads += 1
        log.info("event=registry_reload conta=all gateways=%d", len(self._by_mac))

    def invalidate(self, conta_id=ALL) -> None:
        with self._lock:
            self._dirty.add(conta_id)

    # -- change notices (background thread) ------------------------------------
    def on_notice(self, callback) -> None:
        """Also call `callback()` on every change notice (ingestao.agent_config wakes its
        publisher), from the listener thread: one Redis subscription per process."""
        self._notice_callbacks.append(callback)

    def start_listener(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="registry-listener", daemon=True)
        self._thread.start()

    def stop_listener(self) -> None:
        self._stop.set()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.redis_url)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(registry_channel())
                # Notices may have been missed while (re)connecting.
                self.invalidate(ALL)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        try:
                            self.invalidate(int(message["data"]))
                        except (TypeError, ValueError):
                            self.invalidate(ALL)
                        for callback in self._notice_callbacks:
                            callback()
                pubsub.close()
                client.close()
            except redis.RedisError as exc:
                log.warning("event=registry_listener_error error=%r", exc)
                self._stop.wait(2.0)

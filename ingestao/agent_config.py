"""Publishes each gateway's configuration for its agent (`tds-gateway`).

The registry bumps `Gateway.config_versao` in the transaction of every change that
alters what a gateway polls (dispositivos/gateway_config.py). This publisher, running in
the consumer process on the consumer's connection (the ACL lets only the consumer
identities write `tds_new/devices/+/config`, and only the gateway itself read its own),
publishes the config retained with QoS 1 whenever the published version lags behind: at
once on a registry change notice (Redis, after commit), within a second of (re)connecting
to the broker, and by a sweep every 15 s for what a lost notice left behind. A version counts as published once the
broker acknowledged it.
"""

import json
import logging
import queue
import threading

from django.db import connection
from django.db.models import F
from django_scopes import scopes_disabled

from dispositivos.gateway_config import gateway_config_payload
from dispositivos.models import Gateway
from tds_core import wire

from .registry import RegistryCache

log = logging.getLogger(__name__)


def gateways_config_pending(*, limit: int = 500) -> list[Gateway]:
    with scopes_disabled():
        return list(
            Gateway.objects.filter(config_publicada_versao__lt=F("config_versao")).order_by("pk")[
                :limit
            ]
        )


def gateway_config_mark_published(*, gateway_id: int, versao: int) -> None:
    with scopes_disabled():
        Gateway.objects.filter(pk=gateway_id, config_publicada_versao__lt=versao).update(
            config_publicada_versao=versao
        )


class ConfigPublisher:
    """Publishes on the consumer's own MQTT connection: the broker binds the client id to
    the certificate (`use_username_as_clientid`), so a second connection with the same
    identity would take the consumer's session over."""

    def __init__(self, *, client, registry: RegistryCache, sweep_seconds: float = 15.0):
        self.client = client
        self.sweep_seconds = sweep_seconds
        self._wake = threading.Event()
        registry.on_notice(self._wake.set)  # the consumer's registry listener wakes it
        self._stop = threading.Event()
        self._acks: queue.SimpleQueue = queue.SimpleQueue()
        self._inflight: dict[int, tuple[int, int]] = {}  # mid -> (gateway id, versao)
        self.published = 0

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        # A retained message is kept even with no subscriber (0x10): only >= 0x80 failed.
        self._acks.put((mid, reason_code.value))
        self._wake.set()

    def start(self) -> "ConfigPublisher":
        self.client.on_publish = self._on_publish  # the consumer publishes nothing else
        self._thread = threading.Thread(target=self._run, name="config-publisher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if getattr(self, "_thread", None) is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        was_connected = False
        while not self._stop.is_set():
            self._wake.wait(1.0 if not was_connected else self.sweep_seconds)
            self._wake.clear()
            try:
                self._handle_acks()
                connected = self.client.is_connected()
                if connected:
                    self.publish_pending()
                was_connected = connected
            except Exception:
                log.exception("event=config_publish_failed")
                connection.close()
        connection.close()

    def publish_pending(self) -> int:
        busy = {gw for gw, _ in self._inflight.values()}
        n = 0
        for gateway in gateways_config_pending():
            if gateway.pk in busy:
                continue
            with scopes_disabled():
                body = gateway_config_payload(gateway=gateway)
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
            info = self.client.publish(
                wire.config_topic(gateway.mac), payload, qos=wire.QOS, retain=True
            )
            self._inflight[info.mid] = (gateway.pk, body["versao"])
            n += 1
        return n

    def _handle_acks(self) -> None:
        while True:
            try:
                mid, code = self._acks.get_nowait()
            except queue.Empty:
                return
            entry = self._inflight.pop(mid, None)
            if entry is None:
                continue
            gateway_id, versao = entry
            if code >= 0x80:
                log.warning("event=config_not_accepted gateway=%s reason=0x%02x", gateway_id, code)
                continue
            gateway_config_mark_published(gateway_id=gateway_id, versao=versao)
            self.published += 1
            log.info("event=config_published gateway=%s versao=%s", gateway_id, versao)

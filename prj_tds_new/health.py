"""Health endpoints for systemd, the reverse proxy and monitoring, answered before any
other middleware (no host check, no HTTPS redirect, no session): they are probed over
plain HTTP on loopback, and deploy/nginx/tds.conf does not expose them.

- `/saude/vivo/`: liveness: the process answers. No dependency is touched.
- `/saude/pronto/`: readiness: PostgreSQL (`SELECT 1`), Redis (`PING`) and the MQTT
  broker (a TCP connection to MQTT_URL's host and port) each answer within a couple of
  seconds. 200 with {"postgresql": "ok", ...}, or 503 naming what failed.
"""

import json
import logging
import socket
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.http import HttpResponse

log = logging.getLogger(__name__)

LIVE = "/saude/vivo/"
READY = "/saude/pronto/"
TIMEOUT = 2.0


def _postgresql() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    url = urlparse(settings.MQTT_URL)
    port = url.port or (8883 if url.scheme == "mqtts" else 1883)
    with socket.create_connection((url.hostname or "127.0.0.1", port), timeout=TIMEOUT):
        pass


CHECKS = {"postgresql": _postgresql, "redis": _redis, "broker": _broker}


def readiness() -> tuple[bool, dict[str, str]]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready", with its reason
            log.warning("event=not_ready check=%s error=%s", name, exc)
            results[name] = f"erro: {type(exc).__name__}: {str(exc)[:200]}"
    return all(v == "ok" for v in results.values()), results


def _json(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(data), status=status, content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip


class HealthMiddleware:
    """First in MIDDLEWARE: answers the two health paths itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVE:
            return _json({"status": "ok"})
        if request.path == READY:
            ok, results = readiness()  # its connection is closed with the request's
            return _json(results, 200 if ok else 503)
        return self.get_response(request)

"""Server-Sent Events: the live feed of the active account, from an async view.

Everything that needs the database or the session (user, active account) is resolved
before the stream starts: the sync ActiveContaMiddleware has set `request.conta`, and
its scope ends when the view returns, long before the stream is iterated. The stream
then only touches Redis: it subscribes to `live_channel(conta.pk)` and nothing else, so
nobody receives another account's events. The database connection is released before
streaming, so an open dashboard does not hold a PostgreSQL connection.

Heartbeat comments keep proxies and the browser from timing out an idle stream; after
`TDS_SSE_MAX_SECONDS` the server ends the stream and EventSource reconnects by itself
(which re-checks the login and the membership).
"""

import asyncio
import contextlib
import logging
import random

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, StreamingHttpResponse

from contas.permissions import READ
from tds_core.live import ACCESS_REVOKED, event_type, live_channel, revoked_user

from . import livehub

log = logging.getLogger(__name__)


RETRY_MS = 1000  # the browser's reconnect delay, plus up to RETRY_JITTER_MS at random
RETRY_JITTER_MS = 4000
# Streams end after TDS_SSE_MAX_SECONDS minus up to this share at random: dashboards
# opened together (a shift change, a restart) would otherwise all reconnect together,
# every TDS_SSE_MAX_SECONDS, in waves.
LIFETIME_JITTER = 0.2
_PING = object()  # put in a stream's queue by its heartbeat timer


def sse_message(*, event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


async def live_stream(
    *, channel: str, heartbeat: float, max_seconds: float, user_id=None, on_close=None
):
    """Yields SSE frames for one Redis channel until `max_seconds`, disconnect, or an
    `access_revoked` event for `user_id` (the member was removed from the account), from
    the process's shared pub/sub (telemetria.livehub). `on_close`: an async callable run
    when the stream ends (releases the user's stream slot)."""
    live = livehub.hub()
    queue = await live.subscribe(channel)
    loop = asyncio.get_running_loop()
    # The heartbeat and the end of life are timers that put a marker in the stream's queue:
    # waiting on the queue alone costs one wake-up per event, where `wait_for` built a task
    # and a timer for every event of every stream (1,000 open dashboards: the fan-out).
    last_sent = loop.time()

    def heartbeat_due():
        nonlocal timer
        idle = loop.time() - last_sent
        if idle >= heartbeat:
            with contextlib.suppress(asyncio.QueueFull):  # a full queue ends the stream anyway
                queue.put_nowait(_PING)
            idle = 0.0
        timer = loop.call_later(heartbeat - idle, heartbeat_due)

    timer = loop.call_later(heartbeat, heartbeat_due)
    lifetime = loop.call_later(max_seconds, livehub.LiveHub.end_stream, queue)
    try:
        # Sent at once so that the browser fires `open` and proxies flush the headers.
        retry = RETRY_MS + random.randrange(RETRY_JITTER_MS)  # noqa: S311 (not a secret)
        yield f"retry: {retry}\n: connected\n\n"
        last_sent = loop.time()
        while True:
            data = await queue.get()
            if data is livehub.CLOSED:
                return
            if data is _PING:
                yield ": ping\n\n"
                last_sent = loop.time()
                continue
            data = data.decode() if isinstance(data, bytes) else ""
            kind = event_type(data) if data else None
            if kind is None and data and (gone := revoked_user(data)) is not None:
                if gone == user_id:
                    yield sse_message(event=ACCESS_REVOKED, data="{}")
                    return
                continue  # another member's: not forwarded
            if kind is None:
                log.warning("ignoring malformed live event on %s", channel)
                continue
            yield sse_message(event=kind, data=data)
            last_sent = loop.time()
    finally:
        timer.cancel()
        lifetime.cancel()
        await live.unsubscribe(channel, queue)
        if on_close is not None:
            try:
                await on_close()
            except Exception:  # Redis gone: the slot lapses by itself
                log.debug("releasing the stream slot failed", exc_info=True)


def _release_db_connections() -> None:
    """Closes this thread's idle connections (not one inside a transaction, e.g. a test's)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()


async def live_events(request):
    """GET /telemetria/eventos/: `text/event-stream` of the active account's live events."""
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=401)
    conta = getattr(request, "conta", None)
    if conta is None or request.membership.role not in READ:  # a morador: own unit only
        return HttpResponse(status=403)
    channel = live_channel(conta.pk)
    await sync_to_async(_release_db_connections)()
    max_seconds = float(settings.TDS_SSE_MAX_SECONDS)
    max_seconds *= 1 - random.random() * LIFETIME_JITTER  # noqa: S311 (not a secret)
    slots = livehub.Slots(
        livehub.redis_key("sse", "user", user.pk),
        limit=settings.TDS_SSE_MAX_STREAMS_PER_USER,
        ttl=max_seconds + 60,
    )
    client = livehub.hub().client
    token = await slots.aacquire(client)
    if token is None:  # EventSource gives up on a 429; the page polls and retries later
        return HttpResponse(status=429, headers={"Retry-After": "30"})

    async def release():
        await slots.arelease(client, token)

    response = StreamingHttpResponse(
        live_stream(
            channel=channel,
            heartbeat=float(settings.TDS_SSE_HEARTBEAT_SECONDS),
            max_seconds=max_seconds,
            user_id=user.pk,
            on_close=release,
        ),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response

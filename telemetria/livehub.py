"""One Redis pub/sub per web process, fanned out to its SSE streams; slots that bound
what one user or account holds open.

Each SSE stream used to open its own Redis connection: 45 streams of one *leitor*
exhausted a Redis with `maxclients 40`. The hub keeps one pub/sub connection per event
loop (a uvicorn worker has one), subscribes to an account's channel while at least one
stream of that account is open, and hands every message to the streams' queues. A
stream whose queue is full (a client not reading) is ended: the browser reconnects and
resyncs, and the others are not held back.

`Slots` caps holders of a key across processes (a Redis sorted set of holder tokens
scored by expiry, so a crashed process's slots lapse): SSE streams per user, concurrent
CSV exports per account.
"""

import asyncio
import contextlib
import logging
import os
import time
import uuid
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

from tds_core.installation import redis_name

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 8  # per web process: the pub/sub and the slots' commands
QUEUE_SIZE = 256  # events waiting for one stream before it is ended as too slow
CLOSED = object()  # put in a stream's queue when it must end

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def redis_key(*parts) -> str:
    """A Redis key of this installation (tds_core.installation.redis_name)."""
    return redis_name(*parts)


_sync_client: redis.Redis | None = None


def sync_client() -> redis.Redis:
    """This process's Redis client for synchronous code (a connection pool)."""
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL)
    return _sync_client


class Slots:
    """At most `limit` holders of `key` at once, across processes; a slot lapses after
    `ttl` seconds if its holder never releases it."""

    def __init__(self, key: str, *, limit: int, ttl: float):
        self.key, self.limit, self.ttl = key, limit, ttl

    def _args(self, token: str) -> list:
        now = time.time()
        return [now, self.limit, now + self.ttl, token, int(self.ttl) + 60]

    def acquire(self, client: redis.Redis) -> str | None:
        token = uuid.uuid4().hex
        ok = client.eval(_ACQUIRE, 1, self.key, *self._args(token))
        return token if ok else None

    def release(self, client: redis.Redis, token: str) -> None:
        client.zrem(self.key, token)

    async def aacquire(self, client: aioredis.Redis) -> str | None:
        token = uuid.uuid4().hex
        ok = await client.eval(_ACQUIRE, 1, self.key, *self._args(token))
        return token if ok else None

    async def arelease(self, client: aioredis.Redis, token: str) -> None:
        await client.zrem(self.key, token)


class LiveHub:
    """The pub/sub of one event loop, shared by its SSE streams."""

    def __init__(self):
        # Commands (slots) and the pub/sub share one pool: one connection for the
        # pub/sub, a few for commands, whatever the number of streams.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            client_name=f"tds-web-hub-{_pid()}",
            max_connections=MAX_CONNECTIONS,
            timeout=10,  # a command waits this long for a free connection
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self._pubsub = self.client.pubsub()
        self._queues: dict[str, set[asyncio.Queue]] = {}
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def subscribe(self, channel: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        async with self._lock:
            streams = self._queues.setdefault(channel, set())
            streams.add(queue)
            if len(streams) == 1:
                await self._pubsub.subscribe(channel)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.get_running_loop().create_task(self._read())
        return queue

    async def unsubscribe(self, channel: str, queue: asyncio.Queue) -> None:
        async with self._lock:
            streams = self._queues.get(channel)
            if not streams:
                return
            streams.discard(queue)
            if not streams:
                del self._queues[channel]
                try:
                    await self._pubsub.unsubscribe(channel)
                except redis.RedisError:
                    log.debug("unsubscribe from %s failed", channel, exc_info=True)

    def channels(self) -> int:
        return len(self._queues)

    async def _read(self) -> None:
        """Hands each message to the queues of its channel; on a Redis error, ends every
        stream (their browsers reconnect and resync) and starts again."""
        while True:
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    if not self._queues:
                        return
                    continue
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except (redis.RedisError, OSError) as exc:
                log.warning("live hub: Redis error, ending %d streams: %s", self._count(), exc)
                await self._reset()
                return
            if message is None:
                continue
            channel = message["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            for queue in list(self._queues.get(channel, ())):
                try:
                    queue.put_nowait(message["data"])
                except asyncio.QueueFull:  # a client not reading: end its stream
                    self.end_stream(queue)

    def _count(self) -> int:
        return sum(len(s) for s in self._queues.values())

    @staticmethod
    def end_stream(queue: asyncio.Queue) -> None:
        """Ends the stream reading `queue` (what it had not read yet is dropped)."""
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(CLOSED)

    async def _reset(self) -> None:
        async with self._lock:
            for streams in self._queues.values():
                for queue in streams:
                    self.end_stream(queue)
            self._queues.clear()
            with contextlib.suppress(redis.RedisError, OSError):
                await self._pubsub.aclose()
            self._pubsub = self.client.pubsub()


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub]" = weakref.WeakKeyDictionary()


def hub() -> LiveHub:
    """The hub of the running event loop (uvicorn: one per worker process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = LiveHub()
    return found


def _pid() -> int:
    return os.getpid()

"""One bounded Redis connection pool per process for Django's cache.

Django keeps a cache object per thread, and each builds its own connection pool; under
ASGI every request runs its sync code in a thread of its own: 1,000 dashboards opened at
once peaked at 303 Redis clients, and at 400, 199 of the 203 were cache reads
(bench/many_dashboards.py names the peak's clients). `SharedBlockingPool` is the
cache's `pool_class`: every thread of the process gets the same pool, which opens at most
`max_connections` and makes a thread wait up to `timeout` seconds for a free one.
"""

import os
import threading

import redis

_lock = threading.Lock()
_pools: dict[tuple, redis.BlockingConnectionPool] = {}


class SharedBlockingPool(redis.BlockingConnectionPool):
    @classmethod
    def from_url(cls, url, **options):
        # Per process: a forked worker must not reuse its parent's sockets.
        key = (os.getpid(), url, tuple(sorted(options.items())))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = super().from_url(url, **options)
            return pool

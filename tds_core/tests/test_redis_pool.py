"""Django's cache holds one bounded Redis pool per process, whatever the threads: under
ASGI every request runs in a thread of its own, and per-thread pools let 1,000 dashboards
opened at once (400) held 199 Redis connections for cache reads (bench/many_dashboards.py)."""

import threading

from django.core.cache import caches


def _pool_of_a_new_thread():
    found = []

    def run():
        cache = caches["default"]
        cache.get("tds-redis-pool-probe")
        found.append(cache._cache.get_client().connection_pool)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return found[0]


def test_every_thread_shares_one_bounded_pool():
    pools = {id(_pool_of_a_new_thread()) for _ in range(5)}
    assert len(pools) == 1
    pool = _pool_of_a_new_thread()
    assert pool.max_connections <= 32

"""This installation's namespace in infrastructure shared with others (Redis).

Redis pub/sub ignores the database number, so two installations, a staging copy or a
test run on one Redis would otherwise publish into each other's dashboards and
consumers. Every Redis key and channel the project names goes through `redis_name()`.

The namespace is `TDS_INSTALLATION` when set, else derived from the database this process
uses (host, port and name), read at call time: a test run, whose database is renamed
`test_…` after settings load, gets a namespace of its own.
"""

from django.conf import settings


def namespace() -> str:
    from django.db import connections  # not at import: the settings module imports this one

    return settings.TDS_INSTALLATION or database_namespace(connections["default"].settings_dict)


def database_namespace(db: dict) -> str:
    """The namespace derived from a database's settings (host:port/name)."""
    return f"{db.get('HOST') or 'local'}:{db.get('PORT') or 5432}/{db['NAME']}"


def redis_name(*parts: object) -> str:
    """`tds:{namespace}:part:part…`, the name of a Redis key or channel."""
    return ":".join(("tds", namespace(), *map(str, parts)))


def cache_key(key: str, key_prefix: str, version: int) -> str:
    """Django cache KEY_FUNCTION: the cache's keys live in the same namespace."""
    return f"{redis_name('cache', key_prefix)}:{version}:{key}"

"""Django's Redis cache on Parley's Redis connections, and calm while Redis is away.

The cache holds nothing that is the record: sessions are stored in the database too, a
room's moderation state is read again from the database, and rate limits only count. So
a Redis that can't be reached (restarting, or a Sentinel failover under way) reads as a
miss and a write to it is dropped, with a warning in the log, instead of failing the
request or the socket that asked.

The connections come from rooms/redis_pools.py: one pool per process, not a connection
per request (Django keeps a backend per thread, and under ASGI each request's sync code
has a thread of its own), and through Sentinel when settings.REDIS_SENTINELS is set.
"""

import logging

import redis
from django.core.cache.backends import redis as django_redis

from . import redis_pools

log = logging.getLogger(__name__)

UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, servers, *, server: dict, **options) -> None:
        super().__init__(servers, **options)
        self.server = server

    def get_client(self, key=None, *, write=False) -> redis.Redis:
        return redis_pools.client(self.server)

    def _or(self, fallback, method, *args):
        """The method's answer, or `fallback` when Redis can't be reached."""
        try:
            return method(*args)
        except UNREACHABLE as error:
            log.warning("cache unavailable: %s (%s)", method.__name__, type(error).__name__)
            return fallback

    def get(self, key, default):
        return self._or(default, super().get, key, default)

    def get_many(self, keys):
        return self._or({}, super().get_many, keys)

    def has_key(self, key):
        return self._or(False, super().has_key, key)

    def add(self, key, value, timeout):
        return self._or(False, super().add, key, value, timeout)

    def set(self, key, value, timeout):
        self._or(None, super().set, key, value, timeout)

    def set_many(self, data, timeout):
        self._or(None, super().set_many, data, timeout)

    def touch(self, key, timeout):
        return self._or(False, super().touch, key, timeout)

    def delete(self, key):
        return self._or(False, super().delete, key)

    def delete_many(self, keys):
        self._or(None, super().delete_many, keys)

    def incr(self, key, delta):
        # What Django's incr says of a missing key: the count starts again (rooms/limits.py).
        value = self._or(None, super().incr, key, delta)
        if value is None:
            raise ValueError(f"Key {key!r} not found.")
        return value


class RedisCache(django_redis.RedisCache):
    """settings.CACHES' backend with OPTIONS["server"], a settings.REDIS_SHARDS entry."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

"""One Redis connection pool per process for Django's cache (sessions, rate limits).

Django keeps a cache backend per thread, and under ASGI it runs each request's sync code
in a thread of its own: with redis-py's own pool class every request made a backend, a
pool and a new connection to Redis (a connect and a handshake, then a socket left for the
garbage collector). Handing every backend of a process the same pool keeps a few
connections open and reuses them, as the presence store and the channel layer do.
"""

import threading

import redis


class SharedConnectionPool(redis.ConnectionPool):
    """Set as the cache's OPTIONS["pool_class"]: the first pool made for a URL and options
    is the one every later backend of the process gets."""

    _pools: dict[str, redis.ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options) -> redis.ConnectionPool:
        key = f"{url} {sorted(options.items())!r}"
        with cls._lock:
            if key not in cls._pools:
                cls._pools[key] = super().from_url(url, **options)
            return cls._pools[key]

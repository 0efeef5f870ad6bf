"""Rate limits, counted in the cache: Redis when REDIS_URL is set, so every socket
and every process of one person shares one count. RATE_LIMITS=off turns them off."""

import time

from django.conf import settings
from django.core.cache import cache

# action: (how many, per how many seconds, what the person is told)
LIMITS = {
    "message": (8, 2, "Slow down: at most 8 messages every 2 seconds. Try again in a moment."),
    "join": (20, 60, "Too many joins from your address. Wait a minute and try again."),
    "signup": (5, 3600, "Too many sign-ups from your address. Try again later."),
    "about": (5, 60, "Slow down: at most 5 changes to the topic or description a minute."),
}


def now() -> float:
    return time.time()


def allow(action: str, who: str) -> bool:
    """Count one `action` by `who`; False when it goes over the limit."""
    if not settings.RATE_LIMITS:
        return True
    count, seconds, _ = LIMITS[action]
    key = f"rate:{action}:{who}:{int(now() // seconds)}"
    cache.add(key, 0, timeout=seconds + 1)
    try:
        return cache.incr(key) <= count
    except ValueError:  # expired between add and incr: a new window
        return True


def refusal(action: str) -> str:
    return LIMITS[action][2]


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")

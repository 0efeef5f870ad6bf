"""Rate limits, counted in the cache: Redis when REDIS_URL is set, so every socket
and every process of one person shares one count. RATE_LIMITS=off turns them off.

Each action is counted per person (their session or account) and per client
address, so names minted by the dozen from one place share one allowance. The
address limits are looser, since an office or a school shares one address, and
are set in settings.RATE_LIMITS_PER_ADDRESS. Joins and sign-ups have no person
yet: only their address counts.
"""

import ipaddress
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from .words import Words

# Per person: action: (how many, per how many seconds, what the person is told).
# Edits count as messages. A refused typing cue is not shown to anyone, nor its reason.
LIMITS = {
    "message": (
        8,
        2,
        Words("Slow down: at most 8 messages every 2 seconds. Try again in a moment."),
    ),
    "about": (5, 60, Words("Slow down: at most 5 changes to the topic or description a minute.")),
    "typing": (1, 2, Words("At most one typing cue every 2 seconds.")),
    "reaction": (10, 10, Words("Slow down: at most 10 reactions every 10 seconds.")),
    # Files cost storage and a picture's processing: fewer than plain messages.
    "upload": (
        10,
        60,
        Words("Slow down: at most 10 messages with files a minute. Try again soon."),
    ),
    # Results follow typing (a search a pause), so a fast typist makes a few a second.
    "search": (
        30,
        10,
        Words("Slow down: at most 30 searches every 10 seconds. Try again in a moment."),
    ),
    # New private rooms, conversations and invitations: a few at a time is all anyone needs.
    "room": (10, 60, Words("Slow down: at most 10 new rooms or invitations a minute.")),
}

# Per address (the counts are in settings.RATE_LIMITS_PER_ADDRESS).
ADDRESS_REFUSALS = {
    "message": Words(
        "Slow down: too many messages from your address (everyone on it counts together). "
        "Try again in a moment."
    ),
    "about": Words(
        "Slow down: too many topic and description changes from your address. "
        "Try again in a minute."
    ),
    "typing": Words("Too many typing cues from your address."),
    "reaction": Words("Slow down: too many reactions from your address. Try again in a moment."),
    "join": Words("Too many joins from your address. Wait a minute and try again."),
    "signup": Words("Too many sign-ups from your address. Try again later."),
    "upload": Words("Too many files sent from your address. Try again in a minute."),
    "search": Words("Too many searches from your address. Try again in a moment."),
    "room": Words("Too many new rooms or invitations from your address. Try again in a minute."),
}


def now() -> float:
    return time.time()


def check(action: str, *, person: str | None = None, address: str | None = None) -> str | None:
    """Count one `action` by `person` from `address`; what to tell them when it is over
    a limit, else None. A person already over their own limit is not counted against
    their address, so one noisy person does not use up everyone else's allowance."""
    if not settings.RATE_LIMITS:
        return None
    if person is not None and action in LIMITS:
        count, seconds, refusal = LIMITS[action]
        if not counted(f"{action}:{person}", count, seconds):
            return refusal
    per_address = settings.RATE_LIMITS_PER_ADDRESS
    if address and action in per_address:
        count, seconds = per_address[action]
        if not counted(f"{action}:ip.{network(address)}", count, seconds):
            return ADDRESS_REFUSALS[action]
    return None


# The code of a refusal over a limit, so a page answers it with 429, not 400.
RATE_LIMITED = "rate"


def enforce(action: str, field: str, *, person: str, address: str | None) -> None:
    """Count one `action` by a person changing something; over a limit, raise
    ValidationError on the form field it concerns, with the code RATE_LIMITED."""
    if refusal := check(action, person=person, address=address):
        raise ValidationError({field: ValidationError(refusal, code=RATE_LIMITED)})


def is_rate_limited(error: ValidationError, field: str = "body") -> bool:
    return any(e.code == RATE_LIMITED for e in error.error_dict.get(field, []))


async def acheck(
    action: str, *, person: str | None = None, address: str | None = None
) -> str | None:
    """check() for the event loop: the cache client blocks, so it runs in a thread
    (not the database's: a cue must not wait behind a slow query)."""
    if not settings.RATE_LIMITS:
        return None
    return await sync_to_async(check, thread_sensitive=False)(
        action, person=person, address=address
    )


def counted(who: str, count: int, seconds: float) -> bool:
    """Count one more in `who`'s current window; False when it goes over `count`."""
    key = f"rate:{who}:{int(now() // seconds)}"
    cache.add(key, 0, timeout=int(seconds) + 1)
    try:
        return cache.incr(key) <= count
    except ValueError:  # expired between add and incr: a new window
        return True


def network(address: str) -> str:
    """What one client is counted as: its IPv4 address, or its IPv6 /64 (one home or
    office gets a whole /64, and picking a fresh address in it costs nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(request) -> str:
    """The client's address. Behind the proxy, `manage.py serve` has already put the
    real one here from X-Forwarded-For, trusted only from FORWARDED_ALLOW_IPS."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def socket_address(scope) -> str | None:
    """A socket's client address, found the same way (uvicorn rewrites scope["client"])."""
    client = scope.get("client")
    return client[0] if client else None

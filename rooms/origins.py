"""Which pages may open a socket: this site's own, compared as CSRF compares form posts.

Browsers send the page's origin with every WebSocket handshake and cookies go along,
so a page elsewhere could otherwise talk in a room as its visitor. An origin is
scheme, host and port: the socket's own (ws is http, wss is https, the host and port
from the Host header, which must be one of ALLOWED_HOSTS) or one of
CSRF_TRUSTED_ORIGINS ("https://chat.example.org", "https://*.example.org"). Anything
else, or no Origin header at all, is refused at the handshake.
"""

from typing import NamedTuple
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def parse(url: str) -> Origin | None:
    """Scheme, host and port of an origin; the scheme's port where none is given."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])


class SameOriginValidator:
    """Refuses the handshake of a socket from a page that is not this site's."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def origin_allowed(scope) -> bool:
    headers = dict(scope.get("headers", []))
    origin = parse(headers.get(b"origin", b"").decode("latin1"))
    if origin is None:
        return False
    if origin == own_origin(scope, headers.get(b"host", b"").decode("latin1")):
        return True
    return any(trusted(origin, entry) for entry in settings.CSRF_TRUSTED_ORIGINS)


def own_origin(scope, host: str) -> Origin | None:
    """The origin of the page that opened this socket, when its host is one of ours."""
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return parse(f"{'https' if scope.get('scheme') == 'wss' else 'http'}://{host}")


def trusted(origin: Origin, entry: str) -> bool:
    """One CSRF_TRUSTED_ORIGINS entry: exact, or "https://*.example.org" for its subdomains."""
    wildcard = "://*." in entry
    allowed = parse(entry.replace("://*.", "://", 1))
    if allowed is None or (origin.scheme, origin.port) != (allowed.scheme, allowed.port):
        return False
    if wildcard:
        return is_same_domain(origin.host, "." + allowed.host)
    return origin.host == allowed.host

"""ASGI entry point: HTTP goes to Django, WebSockets to the room consumers."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from rooms.live.backlog import with_server_send  # noqa: E402
from rooms.live.process import lifespan  # noqa: E402
from rooms.origins import SameOriginValidator  # noqa: E402
from rooms.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Scheme, host and port of the page's origin, as CSRF compares them (rooms/origins.py).
        # The room's pushes take the server's own send, past Channels' middleware.
        "websocket": with_server_send(
            SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
        # Server start and shutdown: the live runtime stops with the server.
        "lifespan": lifespan,
    }
)

# Everything loaded so far lives as long as the process: keep it out of the garbage
# collector's full passes, so those run often and cheaply, and a closed socket's
# objects (which refer to each other) are freed soon rather than piling up.
gc.freeze()

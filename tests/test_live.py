"""The live runtime: one per process, started by the first socket, stopped with the server."""

import pytest
from asgiref.testing import ApplicationCommunicator

from rooms.live import presence, runtime
from rooms.live.stores import MemoryStore

from .helpers import frame, joined, make_room, receive_message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("nobody_here"),
]


async def test_the_first_socket_starts_it_and_server_shutdown_stops_it():
    from config.asgi import application

    await make_room()
    assert not runtime().running
    ada = await joined("ada")
    live = runtime()
    assert live.running and all(not task.done() for task in live.tasks)
    await ada.send_to(frame("before the shutdown"))
    assert "before the shutdown" in await receive_message(ada)
    await ada.disconnect()
    tasks = list(live.tasks)

    server = ApplicationCommunicator(application, {"type": "lifespan"})
    await server.send_input({"type": "lifespan.startup"})
    assert await server.receive_output() == {"type": "lifespan.startup.complete"}
    await server.send_input({"type": "lifespan.shutdown"})
    assert await server.receive_output() == {"type": "lifespan.shutdown.complete"}
    assert not live.running
    assert all(task.done() for task in tasks)
    assert live.feeds == set() and live.hub.groups == {}


async def test_the_presence_backend_is_the_settings_choice_made_when_first_used(settings):
    class Elsewhere(MemoryStore):
        pass

    settings.PRESENCE_BACKEND = f"{__name__}.Elsewhere"
    globals()["Elsewhere"] = Elsewhere
    try:
        await make_room()
        ada = await joined("ada")
        # Answered once the socket has opened whole (its arrival stored).
        await ada.send_to(frame("here"))
        assert "here" in await receive_message(ada)
        assert type(presence.store()) is Elsewhere
        assert presence.store().active(0) != []  # ada's socket went into it
        await ada.disconnect()
    finally:
        del globals()["Elsewhere"]

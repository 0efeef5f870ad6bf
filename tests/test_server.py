"""The deployed shape: a real server process, real sockets, idle rooms that stay alive."""

import asyncio
import json

import pytest

from .helpers import REDIS_URL, needs_redis
from .servers import join, message_with, room_socket


async def test_two_clients_chat_through_a_real_server(server):
    ada_cookies = join(server.url, "Round Trip", "ada")
    bob_cookies = join(server.url, "Round Trip", "bob")
    async with (
        await room_socket(server, "round-trip", ada_cookies) as ada,
        await room_socket(server, "round-trip", bob_cookies) as bob,
    ):
        await ada.send(json.dumps({"message": "hi bob"}))
        await message_with(bob, "hi bob")
        await bob.send(json.dumps({"message": "hi ada"}))
        await message_with(ada, "hi ada")


async def test_frames_are_sent_uncompressed_even_to_browsers_that_offer_compression(server):
    """Browsers offer permessage-deflate; with it, every socket would compress the room's
    same bytes again with a compressor of its own (about 46 KB each). The server declines."""
    cookies = join(server.url, "Plain Frames", "ada")
    async with await room_socket(server, "plain-frames", cookies, compression="deflate") as ada:
        assert ada.protocol.extensions == []
        await ada.send(json.dumps({"message": "sent as it is"}))
        await message_with(ada, "sent as it is")


@needs_redis
@pytest.mark.timeout(90)
async def test_idle_sockets_survive_a_quiet_room_then_still_chat(server):
    """redis-py's default socket timeout (5 s) once killed every quiet socket with 1011."""
    assert REDIS_URL and server.env["REDIS_URL"] == REDIS_URL
    ada_cookies = join(server.url, "Quiet", "ada")
    bob_cookies = join(server.url, "Quiet", "bob")
    async with (
        await room_socket(server, "quiet", ada_cookies) as ada,
        await room_socket(server, "quiet", bob_cookies) as bob,
    ):
        # Both are told who is here (one push, a moment after they arrive), then
        # quiet for 15 s: nothing more may arrive and neither socket may close.
        for socket in (ada, bob):
            while "Here now: 2" not in await socket.recv():
                pass
        for socket in (ada, bob):
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), timeout=15 if socket is ada else 0.1)
        await ada.send(json.dumps({"message": "still here?"}))
        await message_with(bob, "still here?")
        await bob.send(json.dumps({"message": "yes"}))
        await message_with(ada, "yes")

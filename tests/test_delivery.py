"""Nothing lost: several server processes sharing Redis and the database, under load.

These run real server processes sharing Redis and the database, so they need
REDIS_URL (CI's second pass sets it, with PostgreSQL).
"""

import asyncio
import json
import os
import re
import time

import pytest

from .helpers import needs_redis
from .servers import (
    join,
    message_with,
    room_socket,
    stored_messages,
)

pytestmark = needs_redis

SEQ = re.compile(rb'data-seq="(\d+)"')


async def test_messages_cross_between_two_server_processes(two_servers):
    one, two = two_servers
    ada = await room_socket(one, "across", join(one.url, "Across", "ada"))
    bob = await room_socket(two, "across", join(two.url, "Across", "bob"))
    await ada.send(json.dumps({"message": "from process one"}))
    await message_with(bob, "from process one")
    await bob.send(json.dumps({"message": "from process two"}))
    await message_with(ada, "from process two")
    await ada.close()
    await bob.close()


@pytest.mark.timeout(120)
async def test_load_many_sockets_several_senders_nothing_lost(two_servers):
    """Every socket gets every message exactly once, in the room's order."""
    sockets, senders, per_sender = (
        int(n) for n in os.environ.get("PARLEY_LOAD", "200,5,300").split(",")
    )
    total = senders * per_sender
    one, two = two_servers
    sessions = [join(one.url, "Load", f"user{n}") for n in range(20)]
    clients = [
        await room_socket((one, two)[n % 2], "load", sessions[n % len(sessions)], max_queue=None)
        for n in range(sockets)
    ]
    received: list[list[int]] = [[] for _ in clients]

    async def read(index: int, client) -> None:
        while len(received[index]) < total:
            received[index] += [int(n) for n in SEQ.findall(await client.recv(decode=False))]

    async def send(client, sender: int) -> None:
        for n in range(per_sender):
            await client.send(json.dumps({"message": f"sender {sender} message {n}"}))

    started = time.monotonic()
    readers = [asyncio.create_task(read(i, c)) for i, c in enumerate(clients)]
    await asyncio.gather(*(send(clients[i], i) for i in range(senders)))
    _, pending = await asyncio.wait(readers, timeout=90)
    assert not pending, sorted({len(seqs) for seqs in received})
    elapsed = time.monotonic() - started
    expected = list(range(1, total + 1))
    wrong = [i for i, seqs in enumerate(received) if seqs != expected]
    assert wrong == [], f"{len(wrong)} sockets saw a gap, a duplicate or a wrong order"
    assert stored_messages(one.env, "load") == total
    print(
        f"\n{sockets} sockets, {total} messages, {sockets * total} deliveries, "
        f"0 lost, 0 duplicated, in {elapsed:.1f}s ({sockets * total / elapsed:.0f}/s)"
    )
    for client in clients:
        await client.close()

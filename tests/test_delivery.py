"""Nothing lost: several server processes sharing Redis and the database, under load.

These run real server processes sharing Redis and the database, so they need
REDIS_URL (CI's second pass sets it, with PostgreSQL). Two processes run with the
once-a-second recheck off (conftest.py two_servers): a message that only the database
could bring never comes, and the tests fail.
"""

import asyncio
import json
import os
import re
import time

import pytest

from .helpers import needs_redis
from .servers import (
    LIVE_WITHIN,
    join,
    message_with,
    room_socket,
    stored_messages,
)

pytestmark = needs_redis

SEQ = re.compile(rb'data-seq="(\d+)"')
# Under load, how long a socket may go without a push while messages are still due.
STALLED = 20.0  # seconds


async def test_messages_cross_between_two_server_processes(two_servers):
    one, two = two_servers
    ada = await room_socket(one, "across", join(one.url, "Across", "ada"))
    bob = await room_socket(two, "across", join(two.url, "Across", "bob"))
    await ada.send(json.dumps({"message": "from process one"}))
    await asyncio.wait_for(message_with(bob, "from process one"), LIVE_WITHIN)
    await bob.send(json.dumps({"message": "from process two"}))
    await asyncio.wait_for(message_with(ada, "from process two"), LIVE_WITHIN)
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
    # No client keepalive: a sender's pong waits behind its queued messages, and on a busy
    # machine the client would close the socket itself (1011) before the server got to it.
    clients = [
        await room_socket(
            (one, two)[n % 2],
            "load",
            sessions[n % len(sessions)],
            max_queue=None,
            ping_interval=None,
        )
        for n in range(sockets)
    ]
    received: list[list[int]] = [[] for _ in clients]

    async def read(index: int, client) -> None:
        # With the recheck off only pushes (and the gap filler, behind a push) can deliver:
        # the room's last message is nobody's gap, so if it never came, this wait ends it.
        # Not tighter: on a busy machine a process can be late with its push, and the
        # others' pushes rightly wait for it (rooms/delivery.py GAP_WAIT); the bound on
        # live delivery is test_messages_cross_between_two_server_processes's.
        while len(received[index]) < total:
            frame = await asyncio.wait_for(client.recv(decode=False), STALLED)
            received[index] += [int(n) for n in SEQ.findall(frame)]

    async def send(client, sender: int) -> None:
        for n in range(per_sender):
            await client.send(json.dumps({"message": f"sender {sender} message {n}"}))

    started = time.monotonic()
    readers = [asyncio.create_task(read(i, c)) for i, c in enumerate(clients)]
    await asyncio.gather(*(send(clients[i], i) for i in range(senders)))
    done, pending = await asyncio.wait(readers, timeout=90, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    failed = [task.exception() for task in done if task.exception() is not None]
    assert not failed, f"{len(failed)} sockets stopped short: {failed[0]!r}"
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

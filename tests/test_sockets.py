"""What one client may cost a real server: slow readers, many sockets, many connections."""

import asyncio
import json
import re
import socket
import struct

import pytest
import websockets

from .servers import Server, join, message_with, room_socket, rss_kib, stuck_socket

SEQ = re.compile(r'data-seq="(\d+)"')
CURSOR = re.compile(rb'id="cursor" name="after" value="(\d+)"')


def read_until_close(sock: socket.socket) -> tuple[int | None, bytes]:
    """Read a never-read socket at last: every whole frame's bytes, and the close code
    (None if the server cut the connection before its close frame was read)."""
    sock.settimeout(30)
    data = b""

    def take(count: int) -> bytes:
        nonlocal data
        while len(data) < count:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        taken, data = data[:count], data[count:]
        return taken

    received = b""
    while True:
        try:
            first, second = take(2)
        except ConnectionError:
            return None, received
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", take(8))[0]
        try:
            payload = take(length)
        except ConnectionError:
            return None, received
        if first & 0x0F == 0x8:
            return struct.unpack("!H", payload[:2])[0], received
        received += payload


async def read_seqs(client, last: int) -> list[int]:
    """Every message number a socket gets, up to and including `last`."""
    seqs: list[int] = []
    while last not in seqs:
        seqs += [int(n) for n in SEQ.findall(await client.recv())]
    return seqs


@pytest.fixture
def server_without_catch_up_bound(server_env):
    """This socket falls far behind; here it catches up whole (the bound has its own tests)."""
    process = Server({**server_env, "CATCH_UP_BOUND": "1000000"}).start()
    yield process
    process.stop()


@pytest.mark.timeout(300)
async def test_a_socket_that_never_reads_is_closed_then_catches_up(server_without_catch_up_bound):
    server = server_without_catch_up_bound
    """It was never dropped (the ping waits behind its full buffer); now it gets 1013."""
    reader = await room_socket(server, "never-reads", join(server.url, "Never Reads", "reader"))
    # The sender never reads its copies: they pile up in its client, not in the server.
    sender = await room_socket(
        server, "never-reads", join(server.url, "Never Reads", "sender"), max_queue=None
    )
    stuck_cookies = join(server.url, "Never Reads", "stuck")
    stuck = stuck_socket(server, "never-reads", stuck_cookies)
    dropped = server.read_log().count('"ws.dropped"')
    body = "x" * 1900
    sent, seen = 0, []
    # Far more than the kernel's buffers and the bound together, in bursts the reader keeps up with.
    while server.read_log().count('"ws.dropped"') == dropped:
        assert sent < 6000, "the socket that never reads was never closed"
        for _ in range(50):
            sent += 1
            await sender.send(json.dumps({"message": f"{sent} {body}"}))
        seen += await read_seqs(reader, sent)
    assert seen == list(range(1, sent + 1))  # the room went on for the others

    code, got = await asyncio.to_thread(read_until_close, stuck)
    stuck.close()
    # 1013, which htmx's ws extension reconnects on; or, when the server's close
    # timeout ran out before the client read that far, the connection cut (1006),
    # which it reconnects on too.
    assert code in (1013, None)
    cursor = CURSOR.findall(got)[-1].decode()
    assert int(cursor) < sent

    # The page reconnects and asks for what it missed from the last change it shows.
    again = await room_socket(server, "never-reads", stuck_cookies)
    await again.send(json.dumps({"after": cursor}))
    assert await read_seqs(again, sent) == list(range(int(cursor) + 1, sent + 1))
    await sender.send(json.dumps({"message": "still live"}))
    await message_with(again, "still live")
    await message_with(reader, "still live")
    for client in (reader, sender, again):
        await client.close()


@pytest.mark.timeout(300)
async def test_a_socket_whose_reader_stopped_is_closed_after_the_time_bound(server_env):
    """A short burst, then quiet: nothing more arrives to count, the wait alone closes it."""
    only_time = {"SOCKET_BACKLOG_BYTES": "1000000000", "SOCKET_BACKLOG_EVENTS": "1000000"}
    server = Server({**server_env, **only_time, "SOCKET_BACKLOG_SECONDS": "2"}).start()
    try:
        sender = await room_socket(
            server, "stopped", join(server.url, "Stopped", "sender"), max_queue=None
        )
        stuck = stuck_socket(server, "stopped", join(server.url, "Stopped", "stuck"))
        # Enough to fill every buffer between them; no count bounds it here.
        for n in range(2500):
            await sender.send(json.dumps({"message": f"{n} " + "y" * 1900}))
        await message_with(sender, "2499 ")
        server.wait_for_log('"ws.dropped"', timeout=60)
        assert "waiting" in server.read_log().split('"ws.dropped"')[1].split("\n")[0]
        code, _ = await asyncio.to_thread(read_until_close, stuck)
        stuck.close()
        assert code in (1013, None)
        await sender.close()
    finally:
        server.stop()


async def refusal(client) -> websockets.ConnectionClosed:
    """The close a socket gets, reading past whatever came first (bounded in time)."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(60):
            while True:
                await client.recv()
    return closed.value


async def test_the_21st_socket_of_one_session_is_refused(server):
    cookies = join(server.url, "Many Tabs", "ada")
    tabs = [await room_socket(server, "many-tabs", cookies) for _ in range(20)]
    for n, tab in enumerate(tabs):
        await tab.send(json.dumps({"message": f"tab {n}"}))
        await message_with(tab, f"tab {n}")  # each of the 20 is open and chatting
    extra = await room_socket(server, "many-tabs", cookies)
    closed = await refusal(extra)
    assert closed.rcvd.code == 4008
    assert closed.rcvd.reason == "Too many open tabs in this browser; close one and reload."
    assert '"ws.refused"' in server.read_log()
    # Another person is not counted with ada, and a closed tab frees its place.
    other = await room_socket(server, "many-tabs", join(server.url, "Many Tabs", "bob"))
    await tabs.pop().close()
    again = await room_socket(server, "many-tabs", cookies)
    await again.send(json.dumps({"message": "a place again"}))
    await message_with(again, "a place again")
    await message_with(other, "a place again")
    for client in [*tabs, other, again]:
        await client.close()


async def test_sockets_beyond_the_cap_per_address_are_refused(server_env):
    server = Server({**server_env, "SOCKETS_PER_ADDRESS": "3"}).start()
    try:
        people = [join(server.url, "Crowd", f"p{n}") for n in range(4)]
        open_ = [await room_socket(server, "crowd", cookies) for cookies in people[:3]]
        closed = await refusal(await room_socket(server, "crowd", people[3]))
        assert closed.rcvd.code == 4008
        assert closed.rcvd.reason == "Too many connections from your network; try again later."
        await open_[0].send(json.dumps({"message": "three is fine"}))
        await message_with(open_[2], "three is fine")
        for client in open_:
            await client.close()
    finally:
        server.stop()


@pytest.mark.timeout(600)
async def test_memory_returns_after_ten_thousand_sockets_opened_and_closed(server_env):
    """Each open and close once left about 9 KiB behind: 90 MB after 10,000."""
    server = Server(server_env).start()
    try:
        cookies = join(server.url, "Open Close", "ada")

        async def cycles(count: int) -> None:
            for _ in range(count):
                client = await room_socket(server, "open-close", cookies)
                await client.close()
                await client.wait_closed()

        await cycles(300)  # what any process allocates once: caches, pools, the first rooms
        start = rss_kib(server.process.pid)
        await cycles(10_000)
        # The server has handled every close: a new socket is served after them.
        client = await room_socket(server, "open-close", cookies)
        await client.send(json.dumps({"message": "after ten thousand"}))
        await message_with(client, "after ten thousand")
        await client.close()
        growth = rss_kib(server.process.pid) - start
        print(f"\nserver RSS {start} KiB after warm-up, +{growth} KiB after 10,000 sockets")
        assert growth < 8 * 1024
    finally:
        server.stop()


@pytest.mark.timeout(180)
async def test_the_server_keeps_serving_with_a_thousand_half_sent_requests_open(server):
    """Slowloris: 1,000 connections that send part of their headers and then nothing."""
    half_open = []
    try:
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            half_open.append(sock)
        status, page = await asyncio.to_thread(get_page, server.url + "/")
        assert status == 200 and "room_name" in page
        ada = await room_socket(server, "slow-requests", join(server.url, "Slow Requests", "ada"))
        bob = await room_socket(server, "slow-requests", join(server.url, "Slow Requests", "bob"))
        await ada.send(json.dumps({"message": "still serving"}))
        await message_with(bob, "still serving")
        await ada.close()
        await bob.close()
    finally:
        for sock in half_open:
            sock.close()


def get_page(url: str) -> tuple[int, str]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()

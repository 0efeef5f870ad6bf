"""The upper bound: a bare asyncio `websockets` broadcast server.

No framework, no channel layer, no database, no HTML: every text frame that
arrives on /ws/<room>/ goes, as it is, to every socket on the same path.
Parley's figures are read as a share of this one.
"""

import asyncio
import sys
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = defaultdict(set)


async def handler(connection: ServerConnection) -> None:
    room = rooms[connection.request.path]
    room.add(connection)
    try:
        async for frame in connection:
            broadcast(room, frame)
    finally:
        room.discard(connection)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, backlog=1024, max_size=65536) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))

"""Health checks for load balancers and service managers.

/healthz says the process answers; /readyz says it can do its work: the database
answers and the channel layer's Redis servers (when there are any) answer.
"""

import asyncio

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from . import redis_pools

CHECK_TIMEOUT = 3  # seconds


@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    # Async: the answer needs no thread, only the event loop.
    return JsonResponse({"status": "ok"})


@database_sync_to_async
def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def check_channel_layer() -> None:
    # Every shard (through Sentinel when there is one): a room on any of them needs it.
    for server in settings.REDIS_SHARDS:
        await redis_pools.ping(server, CHECK_TIMEOUT)


@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    checks = {}
    for name, check in (("database", check_database), ("channel_layer", check_channel_layer)):
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT)
            checks[name] = "ok"
        except Exception as error:
            checks[name] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )

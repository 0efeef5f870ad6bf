"""Redis beyond one server: Sentinel failover followed without a restart, and rooms spread
over shards. Real redis-server processes of the tests' own (primary, replica, Sentinels,
shards), so they can be killed; the settings read from a real environment."""

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest
import redis
from channels_redis.pubsub import RedisPubSubChannelLayer

from rooms import redis_pools
from rooms.broadcast import group_name
from rooms.cache import RedisCache
from rooms.live.stores import RedisStore

from .helpers import needs_redis
from .servers import ROOT, RedisServer, SentinelServer


def settings_for(**env: str) -> subprocess.CompletedProcess:
    """What config.settings makes of an environment, in a fresh interpreter."""
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.CHANNEL_LAYERS['default']['CONFIG']['hosts'], "
        "s.CACHES['default']['OPTIONS']['server']]))"
    )
    environment = {"PATH": os.environ["PATH"], "SECRET_KEY": "x", **env}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_sentinels_name_the_service_in_the_url_as_django_redis_does():
    result = settings_for(
        REDIS_URL="redis://:s%40cret@parley/2",
        REDIS_SENTINELS="10.0.0.1:26379, [::1]:26380",
    )
    hosts, cache_server = json.loads(result.stdout)
    assert hosts == [cache_server]
    [server] = hosts
    assert server["sentinels"] == [["10.0.0.1", 26379], ["::1", 26380]]
    assert (server["master_name"], server["db"], server["password"]) == ("parley", 2, "s@cret")
    # A quiet subscription must never time out (redis-py's default 5 s closed rooms).
    assert server["socket_timeout"] is None


def test_several_urls_are_shards_and_the_cache_lives_on_the_first():
    result = settings_for(REDIS_URL="redis://10.0.0.1:6379/0,redis://10.0.0.2:6379/0")
    hosts, cache_server = json.loads(result.stdout)
    assert [host["address"] for host in hosts] == [
        "redis://10.0.0.1:6379/0",
        "redis://10.0.0.2:6379/0",
    ]
    assert all(host["socket_timeout"] is None for host in hosts)
    assert cache_server == hosts[0]


@pytest.mark.parametrize("sentinels", ["10.0.0.1", "10.0.0.1:port", ":26379"])
def test_a_sentinel_address_without_a_port_is_refused_at_start(sentinels):
    result = settings_for(REDIS_URL="redis://parley/0", REDIS_SENTINELS=sentinels)
    assert result.returncode != 0
    assert "REDIS_SENTINELS: expected host:port" in result.stderr


def until(check, what: str, seconds: float = 30):
    """check()'s first true answer, tried again (Redis errors included) until `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if answer := check():
                return answer
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.05)


async def auntil(check, what: str, seconds: float = 30):
    """until() for coroutines."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if answer := await check():
                return answer
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        await asyncio.sleep(0.05)


def role(server: RedisServer) -> str:
    return redis.Redis(port=server.port).info("replication")["role"]


@pytest.fixture
def sentinel_set(tmp_path):
    """A primary, its replica and three Sentinels watching them as "parley"."""
    for name in ("primary", "replica", "sentinels"):
        (tmp_path / name).mkdir()
    primary = RedisServer(tmp_path / "primary").start()
    replica = RedisServer(
        tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary.port)
    ).start()
    sentinels = [SentinelServer(tmp_path / "sentinels", primary).start() for _ in range(3)]
    try:
        until(
            lambda: (
                redis.Redis(port=replica.port).info("replication")["master_link_status"] == "up"
            ),
            "the replica in step with the primary",
        )
        for sentinel in sentinels:
            until(
                lambda s=sentinel: (
                    redis.Redis(port=s.port).sentinel_slaves("parley")
                    and len(redis.Redis(port=s.port).sentinel_sentinels("parley")) == 2
                ),
                "every Sentinel knowing the replica and the other two",
            )
        yield primary, replica, sentinels
    finally:
        for server in (*sentinels, replica, primary):
            server.stop()


@needs_redis
async def test_the_layer_cache_and_presence_follow_a_failover_without_a_restart(
    sentinel_set, settings
):
    primary, replica, sentinels = sentinel_set
    server = {
        "sentinels": [("127.0.0.1", sentinel.port) for sentinel in sentinels],
        "master_name": "parley",
        "socket_timeout": None,
        "socket_connect_timeout": 1,
        "sentinel_kwargs": {"socket_timeout": 1, "socket_connect_timeout": 1},
    }
    layer = RedisPubSubChannelLayer(hosts=[server], prefix="failover")
    cache = RedisCache("parley", {"OPTIONS": {"server": server}})
    store = RedisStore(servers=[server], prefix="failover")
    channel = await layer.new_channel()
    await layer.group_add(group_name(1), channel)
    await layer.group_send(group_name(1), {"type": "chat", "n": 0})
    assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == 0
    await asyncio.to_thread(cache.set, "topic", "before", 60)
    await store.aadd(1, "ada", time.time() + 60)
    assert redis.Redis(port=primary.port).wait(1, 5000) == 1  # the replica has it all

    primary.stop()
    killed = time.monotonic()
    # While no primary answers, the cache reads as a miss and drops writes: never an error.
    assert await asyncio.to_thread(cache.get, "missing", "a miss") == "a miss"
    await asyncio.to_thread(cache.set, "during", "dropped or kept", 60)

    sent = iter(range(1, 10_000))

    async def a_push_arrives():
        await layer.group_send(group_name(1), {"type": "chat", "n": next(sent)})
        return await asyncio.wait_for(layer.receive(channel), 0.5)

    await auntil(a_push_arrives, "a push through the promoted replica")
    pushed = time.monotonic() - killed
    assert role(replica) == "master"
    # The replica had the primary's keys: what was kept before the kill is still there,
    # once every Sentinel agrees on the new primary (a miss until then).
    await asyncio.to_thread(until, lambda: cache.get("topic") == "before", "the cache back")
    await asyncio.to_thread(cache.set, "topic", "after", 60)
    assert await asyncio.to_thread(cache.get, "topic") == "after"

    async def bob_arrives():
        await store.aadd(1, "bob", time.time() + 60)
        return True

    await auntil(bob_arrives, "presence written to the new primary")
    assert sorted((await store.aentries([1], time.time()))[1]) == ["ada", "bob"]
    print(f"\nSentinel failover: a live push {pushed:.2f}s after the primary was killed")
    await layer.flush()


@needs_redis
async def test_rooms_spread_over_shards_and_keep_their_presence_beside_their_pushes(
    tmp_path, settings
):
    shards = [RedisServer(tmp_path).start(), RedisServer(tmp_path).start()]
    try:
        servers = [{"address": shard.url, "socket_timeout": None} for shard in shards]
        settings.CHANNEL_LAYERS = {"default": {"CONFIG": {"hosts": servers, "prefix": "shards"}}}
        layer = RedisPubSubChannelLayer(hosts=servers, prefix="shards")
        store = RedisStore(servers=servers)
        channel = await layer.new_channel()
        rooms = range(1, 21)
        for room_id in rooms:
            await layer.group_add(group_name(room_id), channel)
            await store.aadd(room_id, f"person {room_id}", time.time() + 60)
        for room_id in rooms:
            await layer.group_send(group_name(room_id), {"type": "chat", "room": room_id})
        heard = [(await asyncio.wait_for(layer.receive(channel), 5))["room"] for _ in rooms]
        assert sorted(heard) == list(rooms)
        assert await store.aentries(rooms, time.time()) == {r: [f"person {r}"] for r in rooms}

        clients = [redis.Redis(port=shard.port) for shard in shards]
        homes = {}
        for room_id in rooms:
            pushes = [
                c.pubsub_numsub(f"shards__group__{group_name(room_id)}")[0][1] for c in clients
            ]
            kept = [c.exists(store.key(room_id)) for c in clients]
            assert sorted(pushes) == [0, 1], f"room {room_id} subscribed on one shard"
            assert kept == pushes, f"room {room_id}'s presence beside its pushes"
            homes[room_id] = pushes.index(1)
            assert homes[room_id] == redis_pools.shard_index(group_name(room_id), 2)
        assert set(homes.values()) == {0, 1}, "rooms on both shards"
        # The lobby's index of rooms with people lives on the first shard.
        assert clients[0].zcard(store.rooms_key) == len(rooms)
        await layer.flush()
    finally:
        for shard in shards:
            shard.stop()

"""The Redis deployment under a burst of sockets and across a Redis restart, through real
server processes."""

import asyncio
import contextlib
import json
import shutil
import time
import urllib.request

import pytest
import redis
from channels.db import database_sync_to_async
from django.core.cache import caches
from websockets.exceptions import ConnectionClosed

from core.cache import Gathered, cache_gather, cache_take
from realtime.channel_layers import LAYER_LOST, PubSubChannelLayer
from rooms.services.lifecycle import room_create
from tests.factories import PASSWORD, UserFactory
from tests.support.live import LiveSocket, crashes_in, room_path, session_cookie
from tests.support.servers import RedisServer, ServerProcess, session_keys

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

BURST = 300
# Far fewer connections than sockets: with redis-py's plain pool, the burst failed past it.
SMALL_POOL = 10


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
async def test_a_burst_of_sockets_through_a_small_pool_all_get_in_on_few_connections():
    """More sockets at once than the server's Redis pool has connections: they queue for
    one, and the server holds no more connections than its pools (the cache's included)."""

    def people():
        host = UserFactory(username="burst_host")
        room = room_create(host=host, title="Everyone at once")
        return room, session_keys(UserFactory.create_batch(BURST))

    room, keys = await database_sync_to_async(people)()
    redis_server = RedisServer().start()
    server = ServerProcess(
        REDIS_URL=redis_server.url,
        CACHE_URL=redis_server.cache_url,
        CHANNELS_PREFIX="burst",
        REDIS_POOL_SIZE=SMALL_POOL,
        ROOM_MAX_MEMBERS=BURST + 10,
        SOCKET_OPENS_PER_MINUTE=5,
    ).start()
    sockets = [LiveSocket(server, room_path(room), f"sessionid={key}") for key in keys]
    try:
        # One server process takes 25-40 joins a second on this machine (benchmarks/results/).
        opened = await asyncio.gather(*(socket.open(wait=180) for socket in sockets))
        assert [s.first["type"] for s in opened] == ["room.snapshot"] * BURST
        # Every socket still open: one cache connection per socket would show here.
        assert redis_server.clients() - 1 <= SMALL_POOL + 5
    finally:
        for socket in sockets:
            with contextlib.suppress(Exception):
                await socket.ws.close()
        server.stop()
        redis_server.stop()
    assert not crashes_in(server.output()), server.output()


async def _close_code_of_a_new_socket(server, path, cookie) -> int | None:
    """Opens a socket expecting the server to close it; its close code."""
    socket = LiveSocket(server, path, cookie)
    with contextlib.suppress(ConnectionClosed):
        await socket.open()
    return (await socket.until_closed())[1]


def _sign_in(server, username) -> int:
    """The status of a sign-in attempt through the API (throttled in the cache). The
    server hashes passwords its own way, so the tests' password is refused: 400."""
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        f"{server.url}/api/auth/token/",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
async def test_sockets_and_sign_in_come_through_a_redis_restart():
    def people():
        host = UserFactory(username="restart_host")
        return host, room_create(host=host, title="Through a restart"), session_cookie(host)

    host, room, cookie = await database_sync_to_async(people)()
    redis_server = RedisServer().start()
    server = ServerProcess(REDIS_URL=redis_server.url, CHANNELS_PREFIX="restart").start()
    try:
        socket = await LiveSocket(server, room_path(room), cookie).open()
        assert socket.first["type"] == "room.snapshot"
        redis_server.stop()
        # While Redis is down: open sockets close with "try again", new ones too; signing
        # in still answers.
        assert (await socket.until_closed())[1] == 4503
        assert await _close_code_of_a_new_socket(server, room_path(room), cookie) == 4503
        assert await asyncio.to_thread(_sign_in, server, host.username) == 400
        redis_server.start()
        # Back: every new socket gets its snapshot, over connections of the old pool.
        for _ in range(5):
            async with LiveSocket(server, room_path(room), cookie) as again:
                assert again.first["type"] == "room.snapshot"
                assert await again.still_open()
        assert await asyncio.to_thread(_sign_in, server, host.username) == 400
    finally:
        server.stop()
        redis_server.stop()
    assert not crashes_in(server.output()), server.output()


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
async def test_the_pub_sub_layer_tells_who_lost_messages_and_subscribes_them_again():
    """A Redis restart: the channels subscribed over the lost connection, by name or through
    a group, hear `layer.lost`; what they subscribed is restored without anyone asking (a
    room hub keeps its channel), and a channel made afterwards hears nothing of the loss."""
    redis_server = RedisServer().start()
    hosts = [{"address": redis_server.url, "socket_connect_timeout": 2}]
    layer = PubSubChannelLayer(hosts=hosts, prefix="lost")
    sender = PubSubChannelLayer(hosts=hosts, prefix="lost")
    try:
        member = await layer.new_channel()
        await layer.group_add("room", member)
        alone = await layer.new_channel()
        redis_server.stop()
        assert await asyncio.wait_for(layer.receive(member), 10) == {"type": LAYER_LOST}
        assert await asyncio.wait_for(layer.receive(alone), 10) == {"type": LAYER_LOST}
        redis_server.start()
        await sender.flush()  # its connections died with the server
        # The shard's reader subscribes again within a turn or two. (Cancelling a receive
        # would drop the channel: one receive waits while the sender tries.)
        heard = asyncio.ensure_future(layer.receive(alone))
        for _ in range(50):
            await sender.send(alone, {"type": "direct"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(heard), 0.2)
                break
        assert heard.done(), "The channel's own subscription was not restored."
        assert heard.result() == {"type": "direct"}
        newcomer = await layer.new_channel()
        await layer.group_add("room", newcomer)
        await sender.group_send("room", {"type": "stage.changed", "n": 1})
        assert await asyncio.wait_for(layer.receive(newcomer), 10) == {
            "type": "stage.changed",
            "n": 1,
        }
        assert await asyncio.wait_for(layer.receive(member), 10) == {
            "type": "stage.changed",
            "n": 1,
        }
    finally:
        await layer.flush()
        await sender.flush()
        redis_server.stop()


def test_gathering_gives_each_window_one_taker_who_takes_everything_parked(redis_cache):
    # The first caller of a window takes its own members; later ones park theirs.
    assert cache_gather("room", ["1", "2"], seconds=60) == Gathered(["1", "2"], 0.0)
    second = cache_gather("room", ["3"], seconds=60)
    assert second.taken == []
    assert 0 < second.wait <= 60
    asking_again = cache_gather("room", [], seconds=60)
    assert asking_again.taken == []
    assert 0 < asking_again.wait <= 60
    # Another key has windows of its own.
    assert cache_gather("other-room", ["9"], seconds=60) == Gathered(["9"], 0.0)
    # The window ends: the next caller takes what was parked with its own.
    redis.Redis(port=redis_cache.port).delete(caches["default"].make_key("room"))
    assert cache_gather("room", ["4"], seconds=60) == Gathered(["3", "4"], 0.0)
    # Nothing parked, nothing to wait for, and a caller with nothing opens no window.
    assert cache_gather("room", [], seconds=60) == Gathered([], 0.0)
    redis.Redis(port=redis_cache.port).delete(caches["default"].make_key("room"))
    assert cache_gather("room", [], seconds=60) == Gathered([], 0.0)
    assert cache_gather("room", ["5"], seconds=60) == Gathered(["5"], 0.0)


@pytest.mark.parametrize("where", ["redis", "local memory"])
def test_a_token_bucket_in_the_cache_gives_a_burst_then_a_pace(where, settings, redis_cache):
    """One bucket for a person whatever process asks (Redis), or in one process's memory."""
    if where == "local memory":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    taken = [cache_take("chat:1", rate=0.001, burst=3) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert cache_take("chat:2", rate=0.001, burst=3)  # a bucket of its own
    # A fast pace refills it.
    assert [cache_take("fast", rate=1000, burst=1) for _ in range(2)] == [True, False]
    time.sleep(0.01)
    assert cache_take("fast", rate=1000, burst=1)


def test_without_redis_each_caller_takes_its_own(redis_cache):
    redis_cache.stop()
    assert cache_gather("room", ["1"], seconds=60) == Gathered(["1"], 0.0)
    assert cache_gather("room", ["2"], seconds=60) == Gathered(["2"], 0.0)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
async def test_a_receive_cancelled_again_while_it_unsubscribes_ends_quietly(caplog):
    """Channels ends a consumer by cancelling its receive, which then unsubscribes; daphne
    stopping cancels it again while the unsubscribes wait their turn."""
    redis_server = RedisServer().start()
    layer = PubSubChannelLayer(hosts=[{"address": redis_server.url}], prefix="twice")
    try:
        channel = await layer.new_channel()
        shard = layer._get_layer()._get_shard(channel)
        receiving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.1)
        async with shard._lock:  # the unsubscribes ahead of this one
            receiving.cancel()
            await asyncio.sleep(0.1)
            receiving.cancel()
            with pytest.raises(asyncio.CancelledError):
                await receiving
        for _ in range(50):
            if channel not in shard._subscribed_to:
                break
            await asyncio.sleep(0.1)
        assert channel not in shard._subscribed_to  # the unsubscribe went on
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
    finally:
        await layer.flush()
        redis_server.stop()

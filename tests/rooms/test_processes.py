"""Real daphne processes: a room shared by two of them through Redis, and a crashed one."""

import asyncio
import contextlib
import json
import sys
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rooms.models import RoomMember
from rooms.services.lifecycle import room_create
from rooms.services.presence import sweep_presence
from tests.factories import PASSWORD, UserFactory
from tests.rooms.factories import member
from tests.support.live import LiveSocket, room_path
from tests.support.servers import ROOT, ServerProcess, project_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


def _cookie(user) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"sessionid={client.cookies['sessionid'].value}"


class Browser:
    """A WebSocket client as a browser would be: a session cookie and its page's origin."""

    def __init__(self, server: ServerProcess, cookie: str, room):
        self.server, self.cookie, self.room = server, cookie, room

    async def __aenter__(self):
        self.ws = await connect(
            f"{self.server.ws_url}/ws/rooms/{self.room.pk}/",
            origin=self.server.url,
            additional_headers={"Cookie": self.cookie},
        )
        self.snapshot = await self.recv()
        assert self.snapshot["type"] == "room.snapshot", self.snapshot
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def send(self, kind, **fields):
        await self.ws.send(json.dumps({"type": kind, **fields}))

    async def recv(self) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), 10))

    async def next_of(self, kind) -> dict:
        while True:
            frame = await self.recv()
            if frame["type"] == kind:
                return frame


@pytest.fixture
def host_and_room(db):
    host = UserFactory(username="far_host")
    return host, room_create(host=host, title="Across processes")


@pytest.fixture
def listener_user(db):
    return UserFactory(username="far_listener")


@pytest.fixture(params=["lists", "pubsub"])
def two_servers(request):
    """Two processes on either of the Redis channel layers (CHANNEL_LAYER)."""
    servers = [ServerProcess(CHANNEL_LAYER=request.param).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="several server processes share rooms through Redis only"
)
async def test_two_server_processes_share_one_room(two_servers, host_and_room, listener_user):
    host, room = host_and_room
    a, b = two_servers
    host_cookie, listener_cookie = await database_sync_to_async(
        lambda: (_cookie(host), _cookie(listener_user))
    )()
    async with Browser(a, host_cookie, room) as on_a, Browser(b, listener_cookie, room) as on_b:
        batch = await on_a.next_of("members.batch")
        assert [m["user"]["username"] for m in batch["joined"]] == [listener_user.username]
        await on_b.send("hand.raise")
        seen_a = await on_a.next_of("member.updated")
        seen_b = await on_b.next_of("member.updated")
        assert seen_a == seen_b
        assert seen_a["member"]["hand_raised"] is True
        # Signalling crosses processes, point to point.
        await on_a.send("signal", to=listener_user.pk, candidate={"candidate": "c", "sdpMid": "0"})
        relayed = await on_b.next_of("signal")
        assert (relayed["from"], relayed["candidate"]["sdpMid"]) == (host.pk, "0")
        await on_b.send("signal", to=host.pk, candidate={"candidate": "d", "sdpMid": "0"})
        assert (await on_a.next_of("signal"))["from"] == listener_user.pk
        # Both processes give the same roster and number.
        await on_a.send("snapshot.request")
        await on_b.send("snapshot.request")
        snap_a, snap_b = await on_a.next_of("room.snapshot"), await on_b.next_of("room.snapshot")
        assert snap_a["seq"] == snap_b["seq"] == seen_a["seq"]
        assert snap_a["members"] == snap_b["members"]
        assert len(snap_a["members"]) == 2


async def test_a_crashed_server_never_says_goodbye_and_the_sweep_cleans_up(
    host_and_room, listener_user
):
    _, room = host_and_room
    cookie = await database_sync_to_async(_cookie)(listener_user)
    server = ServerProcess().start()
    try:
        browser = await Browser(server, cookie, room).__aenter__()
        server.kill()
        with contextlib.suppress(ConnectionClosed):
            await browser.recv()
    finally:
        server.stop()
    member = await RoomMember.objects.aget(room=room, user=listener_user)
    assert member.channel_name  # nobody told the database
    later = timezone.now() + timedelta(seconds=settings.ROOM_PRESENCE_STALE_SECONDS + 15)
    await database_sync_to_async(sweep_presence)(now=later)
    assert not await RoomMember.objects.filter(room=room, user=listener_user).aexists()


async def test_a_push_from_another_process_reaches_the_sockets(server, host_and_room):
    """The sweep command runs in a process of its own: on Redis its push goes through Redis,
    on the embedded defaults through the relay that the web server drains."""
    host, room = host_and_room
    cookie = await database_sync_to_async(_cookie)(host)
    ghost = await database_sync_to_async(UserFactory)(username="ghost")
    long_ago = timezone.now() - timedelta(minutes=5)
    await database_sync_to_async(member)(room, ghost, channel="gone!1", last_seen=long_ago)
    async with Browser(server, cookie, room) as on_server:
        assert on_server.snapshot["audience_count"] == 1
        sweep = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "sweep_presence", cwd=ROOT, env=project_env()
        )
        assert await sweep.wait() == 0
        batch = await on_server.next_of("members.batch")
        assert (batch["left"], batch["audience_count"]) == ([ghost.pk], 0)


async def test_a_socket_the_sweep_drops_is_closed_and_hears_no_more(server, host_and_room):
    """A client that sends frames but never pings keeps the heartbeat watchdog quiet; once
    the sweep drops it from the room it must stop hearing the room's events (and a block,
    which looks for member rows, could no longer find it)."""
    host, room = host_and_room
    mute = await database_sync_to_async(UserFactory)(username="never_pings")
    host_cookie, mute_cookie = await database_sync_to_async(
        lambda: (_cookie(host), _cookie(mute))
    )()
    async with Browser(server, host_cookie, room) as on_host:
        silent = await LiveSocket(server, room_path(room), mute_cookie).open()
        await on_host.next_of("members.batch")
        long_ago = timezone.now() - timedelta(minutes=5)
        await RoomMember.objects.filter(room=room, user=mute).aupdate(last_seen=long_ago)
        sweep = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "sweep_presence", cwd=ROOT, env=project_env()
        )
        assert await sweep.wait() == 0
        frames, code = await silent.until_closed()
        assert code == 4408
        assert frames[-1]["code"] == "idle"
        assert (await on_host.next_of("members.batch"))["left"] == [mute.pk]

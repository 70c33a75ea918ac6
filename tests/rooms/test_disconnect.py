"""Locking someone out closes their room sockets, in this process and in every other one.

Staff act through the admin (Django's test client) or the services; the sockets are real
consumers driven by communicators, or real server processes sharing Redis.
"""

import asyncio
import json
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from moderation.services.restrictions import user_ban, user_suspend
from rooms.models import Room, RoomBan, RoomMember
from rooms.services import lifecycle
from tests.factories import PASSWORD, UserFactory, make_moderator
from tests.rooms.sockets import Socket
from tests.support.servers import ServerProcess

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

Role = RoomMember.Role


@pytest.fixture
def staff(db):
    return make_moderator(username="staffer")


@pytest.fixture
def troll(db):
    return UserFactory(username="troll")


@pytest.fixture
async def host_socket(live_room, host):
    socket = Socket(host, live_room.pk)
    await socket.open()
    yield socket
    await socket.close()


@database_sync_to_async
def _member(room, user) -> RoomMember | None:
    return RoomMember.objects.filter(room=room, user=user).first()


@database_sync_to_async
def _admin_post(staff, path, data) -> int:
    client = Client()
    client.force_login(staff)
    return client.post(path, data).status_code


def _suspend(staff, user):
    return database_sync_to_async(user_suspend)(
        actor=staff, user=user, duration=timedelta(days=1), reason="Spamming rooms."
    )


async def test_a_suspended_listener_is_told_why_and_dropped(live_room, host_socket, staff, troll):
    socket = Socket(troll, live_room.pk)
    await socket.open()
    await host_socket.next_of("members.batch")
    await _suspend(staff, troll)
    error = await socket.next_of("error")
    assert error["code"] == "disconnected"
    assert error["message"].startswith("Your account is suspended until")
    assert error["message"].endswith("Reason: Spamming rooms.")
    assert await socket.close_code() == 4403
    left = await host_socket.next_of("members.batch")
    assert left["left"] == [troll.pk]
    assert await _member(live_room, troll) is None
    assert await host_socket.still_open()


async def test_a_suspended_speaker_leaves_the_stage_rather_than_holding_it(
    live_room, host_socket, staff, troll
):
    socket = Socket(troll, live_room.pk)
    await socket.open()
    await host_socket.send("speaker.invite", user_id=troll.pk)
    await socket.next_of("speaker.invited")
    await socket.send("speaker.accept")
    await host_socket.member_update(troll, role="speaker")
    await _suspend(staff, troll)
    assert await socket.close_code() == 4403
    left = await host_socket.next_of("member.left")
    assert left["user_id"] == troll.pk
    assert await _member(live_room, troll) is None
    # Suspension is not a removal: no room ban is written.
    assert not await RoomBan.objects.filter(user=troll).aexists()


async def test_a_suspended_host_leaves_and_the_grace_period_starts(live_room, host, staff):
    socket = Socket(host, live_room.pk)
    await socket.open()
    await _suspend(staff, host)
    assert await socket.close_code() == 4403
    room = await Room.objects.aget(pk=live_room.pk)
    assert room.unmoderated_since is not None
    assert await _member(live_room, host) is None


async def test_every_socket_of_the_person_closes(host, staff, troll):
    rooms = [
        await database_sync_to_async(lifecycle.room_create)(host=host, title=f"Room {n}")
        for n in range(2)
    ]
    sockets = [Socket(troll, room.pk) for room in rooms]
    for socket in sockets:
        await socket.open()
    await database_sync_to_async(user_ban)(actor=staff, user=troll, reason="Spam.")
    for socket in sockets:
        assert (await socket.next_of("error"))["message"] == (
            "Your account is banned from Roundtable. Reason: Spam."
        )
        assert await socket.close_code() == 4403
    for room in rooms:
        assert await _member(room, troll) is None


async def test_other_peoples_sockets_stay_open(live_room, host_socket, staff, troll):
    bystander = Socket(await database_sync_to_async(UserFactory)(), live_room.pk)
    await bystander.open()
    socket = Socket(troll, live_room.pk)
    await socket.open()
    await _suspend(staff, troll)
    assert await socket.close_code() == 4403
    assert await bystander.still_open()
    await bystander.close()


# --- through the admin ----------------------------------------------------------------------


async def test_suspending_in_the_admin_drops_the_person_out_of_the_room(
    live_room, host_socket, staff, troll
):
    socket = Socket(troll, live_room.pk)
    await socket.open()
    status = await _admin_post(
        staff,
        "/admin/accounts/user/",
        {
            "action": "suspend_users",
            "_selected_action": [troll.pk],
            "duration": "1d",
            "reason": "Spamming rooms.",
            "apply": "Suspend",
        },
    )
    assert status == 302
    assert (await socket.next_of("error"))["code"] == "disconnected"
    assert await socket.close_code() == 4403
    assert await _member(live_room, troll) is None


async def test_ending_a_room_in_the_admin_tells_everyone_and_closes(
    live_room, host_socket, staff, troll
):
    socket = Socket(troll, live_room.pk)
    await socket.open()
    status = await _admin_post(
        staff,
        "/admin/rooms/room/",
        {"action": "end_rooms", "_selected_action": [str(live_room.pk)], "apply": "End"},
    )
    assert status == 302
    for member_socket in (socket, host_socket):
        ended = await member_socket.next_of("room.ended")
        assert ended["reason"] == "staff"
        assert await member_socket.close_code() == 4404


async def test_removing_a_member_in_the_admin_closes_their_socket(
    live_room, host_socket, staff, troll
):
    socket = Socket(troll, live_room.pk)
    await socket.open()
    member = await _member(live_room, troll)
    status = await _admin_post(
        staff,
        "/admin/rooms/room/",
        {
            "action": "remove_member",
            "_selected_action": [str(live_room.pk)],
            "member": member.pk,
            "apply": "Remove",
        },
    )
    assert status == 302
    error = await socket.next_of("error")
    assert (error["code"], error["message"]) == (
        "removed",
        "Site staff removed you from this room.",
    )
    assert await socket.close_code() == 4403
    left = await host_socket.next_of("member.left")
    assert (left["user_id"], left["removed"]) == (troll.pk, True)
    reconnect = Socket(troll, live_room.pk)
    await reconnect.comm.connect()
    assert (await reconnect.next_of("error"))["code"] == "forbidden"
    assert await reconnect.close_code() == 4403


# --- across server processes ----------------------------------------------------------------


@database_sync_to_async
def _cookie(user) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _until_closed(ws):
    """The frames a socket receives until the server closes it."""
    while True:
        try:
            yield await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed:
            return


async def _until_gone(room, user) -> bool:
    """Waits (up to a generous bound) for the server to record that `user` left."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await _member(room, user) is None:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="several server processes share sockets through Redis only"
)
async def test_a_suspension_closes_sockets_on_every_server_process(host, staff, troll):
    servers = [ServerProcess().start(), ServerProcess().start()]
    try:
        rooms = [
            await database_sync_to_async(lifecycle.room_create)(host=host, title=f"Room {n}")
            for n in range(2)
        ]
        cookie = await _cookie(troll)
        sockets = []
        for server, room in zip(servers, rooms, strict=True):
            ws = await connect(
                f"{server.ws_url}/ws/rooms/{room.pk}/",
                origin=server.url,
                additional_headers={"Cookie": cookie},
            )
            assert json.loads(await ws.recv())["type"] == "room.snapshot"
            sockets.append(ws)
        await _suspend(staff, troll)
        for ws in sockets:
            frames = [json.loads(frame) async for frame in _until_closed(ws)]
            assert ws.close_code == 4403
            assert frames[-1]["code"] == "disconnected"
        for room in rooms:
            assert await _until_gone(room, troll)
        # The session no longer opens a socket anywhere.
        ws = await connect(
            f"{servers[0].ws_url}/ws/rooms/{rooms[0].pk}/",
            origin=servers[0].url,
            additional_headers={"Cookie": cookie},
        )
        assert [json.loads(frame)["code"] async for frame in _until_closed(ws)] == [
            "not_authenticated"
        ]
        assert ws.close_code == 4401
    finally:
        for server in servers:
            server.stop()

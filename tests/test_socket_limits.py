"""Socket limits and bad frames, through a real daphne process: what the in-process
communicator cannot show (daphne refuses some close codes; the Redis layer packs every
message with msgpack)."""

import json

import pytest
from channels.db import database_sync_to_async

from rooms.models import RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.live import (
    NOTIFICATIONS,
    LiveSocket,
    crashes_in,
    eventually,
    room_path,
    session_cookie,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

DEEP = "[" * 20_000 + "]" * 20_000
BAD_FRAMES = {
    "nested too deep": '{"type": "ping", "x": ' + DEEP + "}",
    "nested arrays only": DEEP,
    "an id past the database's integers": json.dumps({"type": "speaker.invite", "user_id": 2**63}),
    "an offset past the database's integers": json.dumps(
        {"type": "audience.more", "offset": 2**63}
    ),
    "a huge negative id": json.dumps({"type": "mute.force", "user_id": -(2**70)}),
    "NaN": '{"type": "audience.more", "offset": NaN}',
    "infinity": '{"type": "audience.more", "offset": 1e999}',
    "a lone surrogate": '{"type": "reaction", "emoji": "\\ud800"}',
    "a NUL": '{"type": "reaction", "emoji": "\\u0000"}',
    "not JSON": "{",
    "not an object": "[1, 2]",
    "no type": "{}",
}


@pytest.fixture
def people(db):
    host = UserFactory(username="live_host")
    listener = UserFactory(username="live_listener")
    room = room_create(host=host, title="Under fire")
    return host, listener, room, session_cookie(host), session_cookie(listener)


def _member(room, user):
    return RoomMember.objects.filter(room=room, user=user).values("channel_name").first()


async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays(server, people):
    _, _, room, host_cookie, _ = people
    async with LiveSocket(server, room_path(room), host_cookie) as host:
        for name, text in BAD_FRAMES.items():
            await host.send_text(text)
            error = await host.next_of("error")
            assert error["code"] == "malformed", (name, error)
        assert await host.still_open()
    assert not crashes_in(server.output()), server.output()


async def test_a_signal_carrying_numbers_msgpack_cannot_pack_is_refused(server, people):
    host_user, listener_user, room, host_cookie, listener_cookie = people
    async with (
        LiveSocket(server, room_path(room), host_cookie) as host,
        LiveSocket(server, room_path(room), listener_cookie) as listener,
    ):
        for value in (2**64, 2**63, -(2**64)):
            candidate = {"candidate": "c", "sdpMid": "0", "sdpMLineIndex": value}
            await host.send("signal", to=listener_user.pk, candidate=candidate)
            assert (await host.next_of("error"))["code"] == "malformed"
        # A signal within the limits still goes through.
        await host.send("signal", to=listener_user.pk, candidate={"candidate": "c", "sdpMid": "0"})
        assert (await listener.next_of("signal"))["from"] == host_user.pk
    assert not crashes_in(server.output()), server.output()


async def test_a_frame_over_the_limit_closes_with_4413_and_the_room_hears_it(server, people):
    host_user, listener_user, room, host_cookie, listener_cookie = people
    async with LiveSocket(server, room_path(room), host_cookie) as host:
        listener = await LiveSocket(server, room_path(room), listener_cookie).open()
        await listener.send_text(json.dumps({"type": "ping", "pad": "x" * 70_000}))
        frames, code = await listener.until_closed()
        assert code == 4413, server.output()
        assert [f["code"] for f in frames if f["type"] == "error"] == ["frame_too_big"]
        # The listener is gone from the room, not shown as connected.
        batch = await host.next_of("members.batch")
        assert batch["left"] == [listener_user.pk]
        assert await database_sync_to_async(_member)(room, listener_user) is None
        # Someone on stage keeps their place, shown as disconnected.
        await host.send_text(json.dumps({"type": "ping", "pad": "x" * 70_000}))
        _, code = await host.until_closed()
        assert code == 4413

    async def host_shown_disconnected():
        return await database_sync_to_async(_member)(room, host_user) == {"channel_name": ""}

    assert await eventually(host_shown_disconnected)
    assert not crashes_in(server.output()), server.output()


async def test_malformed_frames_count_against_the_flood_budget(server, people):
    _, _, room, host_cookie, _ = people
    async with LiveSocket(server, room_path(room), host_cookie) as host:
        for _ in range(60):
            await host.send_text("{")
        frames, code = await host.until_closed()
    assert code == 4429
    assert "rate_limited" in [f["code"] for f in frames if f["type"] == "error"]


async def test_the_notification_socket_refuses_bad_frames_and_closes_on_big_ones(server, people):
    _, _, _, host_cookie, _ = people
    async with LiveSocket(server, NOTIFICATIONS, host_cookie) as inbox:
        assert inbox.first["type"] == "unread.count"
        for text in ("[" * 1500 + "]" * 1500, BAD_FRAMES["a lone surrogate"], BAD_FRAMES["NaN"]):
            await inbox.send_text(text)
            assert (await inbox.next_of("error"))["code"] == "malformed"
        assert await inbox.still_open()
        await inbox.send_text(json.dumps({"type": "ping", "pad": "x" * 5000}))
        frames, code = await inbox.until_closed()
    assert code == 4413
    assert frames[-1]["code"] == "frame_too_big"
    assert not crashes_in(server.output()), server.output()


@pytest.mark.parametrize("path", ["room", "notifications"])
async def test_one_person_opening_sockets_too_often_is_refused_with_4429(
    server, people, settings, path
):
    _, _, room, host_cookie, _ = people
    url = room_path(room) if path == "room" else NOTIFICATIONS
    # The budget is counted per minute of the clock: a run that straddles a minute's end may
    # get up to twice the budget in, never more.
    limit = settings.SOCKET_OPENS_PER_MINUTE
    accepted = 0
    for _ in range(2 * limit + 1):
        socket = await LiveSocket(server, url, host_cookie).open()
        if socket.first["type"] not in ("room.snapshot", "unread.count"):
            break
        accepted += 1
        await socket.ws.close()
    assert limit <= accepted <= 2 * limit
    assert socket.first["code"] == "rate_limited"
    _, code = await socket.until_closed()
    assert code == 4429

"""The room socket, end to end in-process: every message type and every bad input."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from moderation.models import ModerationLog
from rooms.batching import PresenceRefresher
from rooms.models import Room, RoomBan, RoomMember
from rooms.services import lifecycle, presence
from tests.factories import PASSWORD, UserFactory
from tests.rooms.sockets import Socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

Role = RoomMember.Role


@database_sync_to_async
def _member(room, user) -> RoomMember | None:
    return RoomMember.objects.filter(room=room, user=user).first()


@pytest.fixture
def people(db):
    return {name: UserFactory(username=name) for name in ("ann", "bob", "cat", "dan")}


@pytest.fixture
async def host_socket(live_room, host):
    socket = Socket(host, live_room.pk)
    snapshot = await socket.open()
    assert snapshot["me"]["role"] == "moderator"
    yield socket
    await socket.close()


async def _listener(room, user) -> Socket:
    socket = Socket(user, room.pk)
    await socket.open()
    return socket


async def _on_stage(room, host_socket, user) -> Socket:
    """A socket for `user`, invited by the host and accepted: a speaker."""
    socket = await _listener(room, user)
    await host_socket.send("speaker.invite", user_id=user.pk)
    await socket.next_of("speaker.invited")
    await socket.send("speaker.accept")
    await host_socket.member_update(user, role="speaker")
    await socket.member_update(user, role="speaker")
    return socket


# --- connecting -----------------------------------------------------------------------


async def test_anonymous_connections_close_with_4401(live_room):
    socket = Socket(None, live_room.pk)
    connected, _ = await socket.comm.connect()
    assert connected
    assert (await socket.recv())["code"] == "not_authenticated"
    assert await socket.close_code() == 4401


@pytest.mark.parametrize("path_id", ["00000000-0000-4000-8000-000000000000", "not-a-room"])
async def test_unknown_rooms_close_with_4404(user, path_id):
    socket = Socket(user, path_id)
    await socket.comm.connect()
    assert (await socket.recv())["type"] == "error"
    assert await socket.close_code() == 4404


async def test_ended_rooms_close_with_4404(live_room, host, user):
    await database_sync_to_async(lifecycle.room_end)(actor=host, room_id=live_room.pk)
    socket = Socket(user, live_room.pk)
    await socket.comm.connect()
    assert (await socket.recv())["message"] == "This room is not live."
    assert await socket.close_code() == 4404


async def test_rooms_you_may_not_enter_close_with_4403(host, user):
    room = await database_sync_to_async(lifecycle.room_create)(
        host=host, title="Closed", visibility=Room.Visibility.CLOSED
    )
    socket = Socket(user, room.pk)
    await socket.comm.connect()
    frame = await socket.recv()
    assert frame["code"] == "forbidden"
    assert "closed" in frame["message"]
    assert await socket.close_code() == 4403
    assert await _member(room, user) is None


async def test_session_cookie_and_origin_are_checked(live_room, user):
    client = Client()
    await database_sync_to_async(client.login)(username=user.username, password=PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    good = Socket(
        None,
        live_room.pk,
        application=application,
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)],
    )
    snapshot = await good.open()
    assert snapshot["me"]["user"]["username"] == user.username
    await good.close()
    evil = WebsocketCommunicator(
        application,
        f"/ws/rooms/{live_room.pk}/",
        headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)],
    )
    connected, _ = await evil.connect()
    assert not connected


async def test_first_frame_is_the_snapshot(live_room, host_socket, people):
    socket = Socket(people["ann"], live_room.pk)
    snapshot = await socket.open()
    assert snapshot["type"] == "room.snapshot"
    assert snapshot["room"]["id"] == str(live_room.pk)
    assert snapshot["room"]["title"] == "Late talk"
    assert snapshot["me"]["role"] == "listener"
    assert snapshot["me"]["muted"] is True
    roles = {m["user"]["username"]: m["role"] for m in snapshot["members"]}
    assert roles == {"host": "moderator", "ann": "listener"}
    assert snapshot["audience_count"] == 1
    assert isinstance(snapshot["seq"], int)
    await socket.close()


async def test_a_second_connection_replaces_the_first_quietly(live_room, host_socket, people):
    first = await _listener(live_room, people["ann"])
    await host_socket.next_of("members.batch")
    second = Socket(people["ann"], live_room.pk)
    await second.open()
    assert (await first.next_of("error"))["code"] == "replaced"
    assert await first.close_code() == 4409
    assert await host_socket.quiet()
    assert await second.still_open()
    assert (await _member(live_room, people["ann"])).channel_name
    await second.close()


async def test_a_join_storm_is_coalesced(live_room, host_socket, people, settings):
    settings.ROOM_AUDIENCE_BATCH_SECONDS = 2
    sockets = [await _listener(live_room, people[name]) for name in ("ann", "bob", "cat", "dan")]
    batch = await host_socket.next_of("members.batch")
    assert sorted(m["user"]["username"] for m in batch["joined"]) == ["ann", "bob", "cat", "dan"]
    assert batch["audience_count"] == 4
    assert await host_socket.quiet()
    for socket in sockets:
        await socket.close()
    gone = await host_socket.next_of("members.batch")
    assert sorted(gone["left"]) == sorted(p.pk for p in people.values())
    assert gone["audience_count"] == 0


# --- the stage --------------------------------------------------------------------------


async def test_raise_and_lower_a_hand(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    await ann.send("hand.raise")
    raised = await host_socket.next_of("member.updated")
    assert raised["member"]["hand_raised"] is True
    assert raised["member"]["hand_raised_at"]
    await ann.send("hand.lower")
    lowered = await host_socket.next_of("member.updated")
    assert lowered["member"]["hand_raised"] is False
    # (the batch announcing ann may come between the two)
    assert lowered["seq"] > raised["seq"]
    await ann.close()


async def test_invite_accept_and_speak(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    await ann.send("hand.raise")
    await host_socket.next_of("member.updated")
    await host_socket.send("speaker.invite", user_id=people["ann"].pk)
    invited = await ann.next_of("speaker.invited")
    assert invited["by"]["username"] == "host"
    await ann.send("speaker.accept")
    frame = await host_socket.member_update(people["ann"], role="speaker")
    assert frame["member"]["hand_raised"] is False
    assert frame["member"]["muted"] is True
    await ann.send("mute.set", muted=False)
    unmuted = await host_socket.next_of("member.updated")
    assert unmuted["member"]["muted"] is False
    await ann.close()


async def test_decline_an_invitation(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    await host_socket.send("speaker.invite", user_id=people["ann"].pk)
    await ann.next_of("speaker.invited")
    await ann.send("speaker.decline")
    frame = await host_socket.member_update(people["ann"], invited=False)
    assert frame["member"]["role"] == "listener"
    await ann.send("speaker.accept")
    assert (await ann.next_of("error"))["code"] == "forbidden"
    await ann.close()


async def test_moderator_moves_a_speaker_back_and_peers_hear_of_it(live_room, host_socket, people):
    ann = await _on_stage(live_room, host_socket, people["ann"])
    bob = await _listener(live_room, people["bob"])
    await host_socket.send("speaker.remove", user_id=people["ann"].pk)
    moved = await bob.next_of("member.updated")
    assert (moved["member"]["user"]["id"], moved["member"]["role"]) == (
        people["ann"].pk,
        "listener",
    )
    await ann.member_update(people["ann"], role="listener")
    log = await database_sync_to_async(ModerationLog.objects.get)(action="move_to_audience")
    assert log.target_id == people["ann"].pk
    await ann.close()
    await bob.close()


async def test_speaker_leaves_the_stage(live_room, host_socket, people):
    ann = await _on_stage(live_room, host_socket, people["ann"])
    await ann.send("speaker.leave")
    await host_socket.member_update(people["ann"], role="listener")
    await ann.close()


async def test_force_mute(live_room, host_socket, people):
    ann = await _on_stage(live_room, host_socket, people["ann"])
    await ann.send("mute.set", muted=False)
    await host_socket.next_of("member.updated")
    await host_socket.send("mute.force", user_id=people["ann"].pk)
    await ann.member_update(people["ann"], muted=True)
    await ann.close()


async def test_grant_and_revoke_moderator_but_never_the_host(live_room, host_socket, host, people):
    ann = await _on_stage(live_room, host_socket, people["ann"])
    await host_socket.send("moderator.grant", user_id=people["ann"].pk)
    await ann.member_update(people["ann"], role="moderator")
    await ann.send("moderator.revoke", user_id=host.pk)
    error = await ann.next_of("error")
    assert error["message"] == "The host cannot be demoted."
    await host_socket.send("moderator.revoke", user_id=people["ann"].pk)
    await ann.member_update(people["ann"], role="speaker")
    await ann.close()


async def test_removed_members_are_closed_out_and_stay_out(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    bob = await _listener(live_room, people["bob"])
    await host_socket.send("member.remove", user_id=people["ann"].pk)
    assert (await ann.next_of("error"))["code"] == "removed"
    assert await ann.close_code() == 4403
    left = await bob.next_of("member.left")
    assert (left["user_id"], left["removed"]) == (people["ann"].pk, True)
    assert await database_sync_to_async(RoomBan.objects.filter(user=people["ann"]).exists)()
    again = Socket(people["ann"], live_room.pk)
    await again.comm.connect()
    assert (await again.recv())["message"] == "A moderator removed you from this room."
    assert await again.close_code() == 4403
    await bob.close()


async def test_ending_the_room_closes_everyone(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    await host_socket.send("room.end")
    for socket in (ann, host_socket):
        ended = await socket.next_of("room.ended")
        assert ended["reason"] == "ended"
        assert await socket.close_code() == 4404
    room = await database_sync_to_async(Room.objects.get)(pk=live_room.pk)
    assert room.status == Room.Status.ENDED


async def test_listeners_cannot_end_the_room(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    await ann.send("room.end", ref="end-1")
    error = await ann.next_of("error")
    assert (error["code"], error["ref"]) == ("forbidden", "end-1")
    assert await ann.still_open()
    await ann.close()


async def test_reactions_reach_everyone(live_room, host_socket, people):
    ann = await _listener(live_room, people["ann"])
    await ann.send("reaction", emoji="🔥")
    reaction = await host_socket.next_of("reaction")
    assert reaction == {"type": "reaction", "user_id": people["ann"].pk, "emoji": "🔥"}
    await ann.send("reaction", emoji="<script>")
    assert (await ann.next_of("error"))["code"] == "invalid"
    await ann.close()


async def test_snapshot_on_request(live_room, host_socket):
    await host_socket.send("snapshot.request")
    snapshot = await host_socket.next_of("room.snapshot")
    assert snapshot["me"]["user"]["username"] == "host"


async def test_audience_pages(live_room, host_socket, people, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 2
    sockets = [await _listener(live_room, people[n]) for n in ("ann", "bob", "cat")]
    await host_socket.send("audience.more", offset=2)
    page = await host_socket.next_of("audience.page")
    assert [m["user"]["username"] for m in page["members"]] == ["cat"]
    assert page["audience_count"] == 3
    await host_socket.send("audience.more", offset=-1)
    assert (await host_socket.next_of("error"))["code"] == "invalid"
    for socket in sockets:
        await socket.close()


async def test_pings_refresh_presence_in_one_write_per_process_and_window(
    live_room, host_socket, host, settings, monkeypatch
):
    settings.ROOM_PRESENCE_REFRESH_SECONDS = 3600  # written below, when the test says
    writes = []
    refresh = presence.presence_refresh

    def counted(**kwargs):
        writes.append(set(kwargs["channel_names"]))
        return refresh(**kwargs)

    monkeypatch.setattr(presence, "presence_refresh", counted)
    before = (await _member(live_room, host)).last_seen
    for _ in range(5):
        await host_socket.send("ping")
        assert await host_socket.next_of("pong") == {"type": "pong"}
    assert writes == []  # a ping writes nothing by itself
    await PresenceRefresher.current().write()
    assert len(writes) == 1
    assert len(writes[0]) == 1  # the host's one connection, however many pings
    assert (await _member(live_room, host)).last_seen > before


async def test_a_lost_stage_connection_is_shown_and_a_lost_listener_leaves(
    live_room, host_socket, people
):
    ann = await _on_stage(live_room, host_socket, people["ann"])
    await ann.close()
    away = await host_socket.next_of("member.updated")
    assert (away["member"]["user"]["username"], away["member"]["connected"]) == ("ann", False)
    bob = await _listener(live_room, people["bob"])
    await host_socket.next_of("members.batch")
    await bob.close()
    assert (await host_socket.next_of("members.batch"))["left"] == [people["bob"].pk]


async def test_leaving_quietly(live_room, host_socket, people):
    ann = await _on_stage(live_room, host_socket, people["ann"])
    await ann.send("room.leave")
    assert await ann.close_code() == 1000
    assert (await host_socket.next_of("member.left"))["user_id"] == people["ann"].pk
    assert await _member(live_room, people["ann"]) is None


# --- signalling --------------------------------------------------------------------------

RECVONLY = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\n"
SENDRECV = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n"


async def test_signals_are_relayed_point_to_point(live_room, host_socket, host, people):
    ann = await _listener(live_room, people["ann"])
    bob = await _listener(live_room, people["bob"])
    offer = {"type": "offer", "sdp": SENDRECV}
    await host_socket.send("signal", to=people["ann"].pk, description=offer)
    assert await ann.next_of("signal") == {"type": "signal", "from": host.pk, "description": offer}
    answer = {"type": "answer", "sdp": RECVONLY}
    await ann.send("signal", to=host.pk, description=answer, session="ann-pc-1")
    relayed = await host_socket.next_of("signal")
    assert (relayed["description"], relayed["session"]) == (answer, "ann-pc-1")
    await ann.send(
        "signal",
        to=host.pk,
        candidate={"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"},
    )
    assert (await host_socket.next_of("signal"))["candidate"]["sdpMid"] == "0"
    assert "signal" not in await bob.types_until_quiet()
    await ann.close()
    await bob.close()


async def test_listeners_cannot_signal_listeners_or_offer_audio(
    live_room, host_socket, host, people
):
    ann = await _listener(live_room, people["ann"])
    bob = await _listener(live_room, people["bob"])
    await ann.send("signal", to=people["bob"].pk, candidate={"candidate": "x"})
    assert (await ann.next_of("error"))["code"] == "forbidden"
    await ann.send("signal", to=host.pk, description={"type": "offer", "sdp": SENDRECV})
    assert (await ann.next_of("error"))["code"] == "sdp_sends_audio"
    await ann.send("signal", to=99999, candidate={"candidate": "x"})
    assert (await ann.next_of("error"))["code"] == "not_found"
    assert "signal" not in await bob.types_until_quiet()
    assert "signal" not in await host_socket.types_until_quiet()
    await ann.close()
    await bob.close()


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"no": "type"}', "malformed"),
        ('{"type": 5}', "malformed"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "speaker.invite", "user_id": "ann"}', "invalid"),
        ('{"type": "speaker.invite"}', "invalid"),
        ('{"type": "mute.set", "muted": "yes"}', "invalid"),
        ('{"type": "speaker.invite", "user_id": 424242}', "not_found"),
        ('{"type": "signal", "to": 1}', "invalid"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_stays(live_room, host_socket, text, code):
    await host_socket.comm.send_to(text_data=text)
    assert (await host_socket.next_of("error"))["code"] == code
    assert await host_socket.still_open()


async def test_binary_frames_get_an_error(live_room, host_socket):
    await host_socket.comm.send_to(bytes_data=b"\x00\x01")
    assert (await host_socket.next_of("error"))["code"] == "malformed"
    assert await host_socket.still_open()


async def test_frames_over_64_kib_close_with_4413(live_room, host_socket):
    await host_socket.comm.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert await host_socket.close_code() == 4413


async def test_a_flood_is_warned_then_closed_with_4429(live_room, host_socket):
    codes = []
    for _ in range(60):
        await host_socket.send("hand.lower")
    while True:
        output = await host_socket.comm.receive_output(5)
        if output["type"] == "websocket.close":
            codes.append(output["code"])
            break
        frame = json.loads(output["text"])
        if frame["type"] == "error":
            codes.append(frame["code"])
    assert codes[0] == "rate_limited"
    assert codes[-1] == 4429


async def test_a_silent_connection_closes_with_4408(live_room, host, settings):
    settings.ROOM_HEARTBEAT_TIMEOUT_SECONDS = 0.3
    socket = Socket(host, live_room.pk)
    await socket.open()
    assert (await socket.next_of("error"))["code"] == "idle"
    assert await socket.close_code() == 4408


async def test_a_full_room_says_so_and_closes(live_room, host_socket, people, settings):
    settings.ROOM_MAX_MEMBERS = 1
    socket = Socket(people["ann"], live_room.pk)
    await socket.comm.connect()
    frame = await socket.recv()
    assert (frame["code"], frame["message"]) == (
        "room_full",
        "This room is full: without a media server a room holds 1 person. Try again later.",
    )
    assert await socket.close_code() == 4403

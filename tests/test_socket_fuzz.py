"""The standing hostile-input suite: random frames (shapes, types, sizes, Unicode, numbers)
against the room and notification sockets of a real daphne process.

For every frame: no 1011 and no other undocumented close; a frame that is not a JSON object
with a string `type` gets an `error` frame (or, over the size limit, the documented close).
After all of them: nothing in the server's log tells of an exception, and the room is as
its database says. Example counts are bounded so the suite stays well under a minute.
"""

import asyncio
import contextlib
import json

import pytest
from channels.db import database_sync_to_async
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rooms.models import Room, RoomMember
from rooms.protocol import REACTIONS
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.live import NOTIFICATIONS, crashes_in, eventually, room_path, session_cookie
from tests.support.servers import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

ROOM_FRAME_BYTES, NOTIFICATION_FRAME_BYTES = 64 * 1024, 4 * 1024
ROOM_TYPES = [
    "hand.raise",
    "hand.lower",
    "speaker.invite",
    "speaker.accept",
    "speaker.decline",
    "speaker.leave",
    "speaker.remove",
    "mute.set",
    "mute.force",
    "moderator.grant",
    "moderator.revoke",
    "member.remove",
    "room.end",
    "reaction",
    "snapshot.request",
    "signal",
    "media.listen",
]
# Closes a fuzzed client may meet: leaving on purpose, a frame too big, a flood.
DOCUMENTED_CLOSES = {1000, 4413, 4429}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = (
    st.integers()
    | st.integers(min_value=2**53 - 2, max_value=2**65)
    | st.integers(min_value=-(2**65), max_value=-(2**53) + 2)
    | st.floats(allow_nan=True, allow_infinity=True)
)
scalars = st.none() | st.booleans() | numbers | st.text(max_size=40)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


@st.composite
def room_frames(draw, *, ids):
    """A frame shaped like ours, with fields that may be anything."""
    frame = {"type": draw(st.sampled_from(ROOM_TYPES) | st.text(max_size=20))}
    for field in draw(st.sets(st.sampled_from(["to", "user_id", "muted", "emoji", "ref"]))):
        frame[field] = draw(st.sampled_from(ids) | values)
    if draw(st.booleans()):
        sdp = (
            SDP
            + draw(st.text(max_size=30))
            + draw(st.sampled_from(["a=recvonly", "a=sendrecv", ""]))
        )
        frame["description"] = draw(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["offer", "answer"]), "sdp": st.just(sdp)}
            )
            | values
        )
    if draw(st.booleans()):
        frame["candidate"] = draw(
            st.fixed_dictionaries({"candidate": st.text(max_size=20), "sdpMLineIndex": numbers})
            | values
        )
    if "emoji" in frame and draw(st.booleans()):
        frame["emoji"] = draw(st.sampled_from(REACTIONS))
    return json.dumps(frame)


def json_of(value) -> str:
    return json.dumps(value)  # NaN and Infinity come out as the bare words, as an attacker sends


junk = (
    st.text(max_size=200)
    | values.map(json_of)
    | st.builds(lambda depth: "[" * depth + "]" * depth, st.integers(30, 30_000))
    | st.builds(lambda n: json.dumps({"type": "ping", "pad": "x" * n}), st.integers(3_000, 70_000))
    | st.binary(max_size=50).map(lambda raw: raw.decode("latin-1"))
)


def _is_frame(text: str) -> bool:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(frame, dict) and isinstance(frame.get("type"), str)


async def _exchange(ws, text: str, sentinel: str, answer: str) -> tuple[list[dict], int | None]:
    """Sends `text`, then a sentinel frame; every frame up to the sentinel's answer, or the
    close code when the server closed first."""
    frames = []
    try:
        await ws.send(text)
        await ws.send(sentinel)
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            frames.append(frame)
            if frame["type"] == answer:
                return frames, None
    except ConnectionClosed:
        return frames, ws.close_code


def _check(text: str, frames: list[dict], code: int | None, *, max_bytes: int) -> None:
    too_big = len(text.encode("utf-8", "surrogatepass")) > max_bytes
    assert code is None or code in DOCUMENTED_CLOSES, (code, text[:200])
    if too_big:
        assert code == 4413, (code, frames)
    elif not _is_frame(text) and code is None:
        assert any(f["type"] == "error" for f in frames), (text[:200], frames)


async def _fuzz(server, path, cookie, texts, *, sentinel, answer, max_bytes):
    async with connect(
        f"{server.ws_url}{path}",
        origin=server.url,
        additional_headers={"Cookie": cookie},
        ping_interval=None,
        max_size=None,
    ) as ws:
        json.loads(await asyncio.wait_for(ws.recv(), 20))
        for text in texts:
            if _is_frame(text) and json.loads(text)["type"] == json.loads(sentinel)["type"]:
                continue  # its answer would pass for the sentinel's
            frames, code = await _exchange(ws, text, sentinel, answer)
            _check(text, frames, code, max_bytes=max_bytes)
            if code is not None:
                return


@pytest.fixture
def fuzz_server():
    # The host's socket sends no pings while the fuzzing runs, which can take longer than
    # the heartbeat timeout on a busy machine.
    server = ServerProcess(
        SOCKET_OPENS_PER_MINUTE=1000, ROOM_HEARTBEAT_TIMEOUT_SECONDS=3600
    ).start()
    yield server
    server.stop()


@pytest.fixture
def fuzz_room(db):
    host = UserFactory(username="fuzz_host")
    listener = UserFactory(username="fuzz_listener")
    room = room_create(host=host, title="Fuzzed")
    return host, listener, room


def test_random_frames_on_the_room_socket(fuzz_server, fuzz_room):
    host, listener, room = fuzz_room
    host_cookie, listener_cookie = session_cookie(host), session_cookie(listener)
    ids = [host.pk, listener.pk]
    frame_texts = st.lists(room_frames(ids=ids) | junk, min_size=1, max_size=4)

    async def keep_host_in_room():
        # Nobody reads the host's socket until the end, and the listener's comings and goings
        # send it a frame or more each. With a bounded queue the client would stop reading
        # once it filled, leave the server's pings unanswered, and the server would drop the
        # host (daphne closes a socket that does not answer its ping within 30 s).
        ws = await connect(
            f"{fuzz_server.ws_url}{room_path(room)}",
            origin=fuzz_server.url,
            additional_headers={"Cookie": host_cookie},
            ping_interval=None,
            max_size=None,
            max_queue=None,
        )
        await ws.recv()
        return ws

    loop = asyncio.new_event_loop()
    host_ws = loop.run_until_complete(keep_host_in_room())

    @FUZZ
    @given(texts=frame_texts)
    def fuzz(texts):
        loop.run_until_complete(
            _fuzz(
                fuzz_server,
                room_path(room),
                listener_cookie,
                texts,
                sentinel='{"type": "audience.more", "offset": 0}',
                answer="audience.page",
                max_bytes=ROOM_FRAME_BYTES,
            )
        )

    try:
        fuzz()
        # Every socket of the listener is closed: they are not shown in the room.
        assert loop.run_until_complete(eventually(listener_gone(room, listener)))
        # The room is as its database says: live, the host on stage and connected, and the
        # roster the host is shown is the one stored. Read while the host's socket is still
        # open: once it closes, the server marks the host disconnected (a lost connection
        # keeps the place on stage), and may do so before this process reads.
        snapshot = loop.run_until_complete(_snapshot(host_ws))
        room.refresh_from_db()
        stored = {m.user_id: m for m in RoomMember.objects.filter(room=room)}
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(host_ws.close())
        loop.run_until_complete(database_sync_to_async(connections.close_all)())
        loop.close()
    assert room.status == Room.Status.LIVE
    assert stored[host.pk].connected
    assert {m["user"]["id"] for m in snapshot["members"]} == set(stored)
    assert snapshot["seq"] == room.seq
    assert not crashes_in(fuzz_server.output()), fuzz_server.output()


def listener_gone(room, listener):
    async def check():
        return not await RoomMember.objects.filter(room=room, user=listener).aexists()

    return check


async def _snapshot(ws) -> dict:
    await ws.send('{"type": "snapshot.request"}')
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if frame["type"] == "room.snapshot":
            return frame


def test_random_frames_on_the_notification_socket(fuzz_server, db):
    cookie = session_cookie(UserFactory(username="fuzz_reader"))
    frame_texts = st.lists(
        junk
        | st.builds(
            lambda kind, body: json.dumps({"type": kind, "body": body}),
            st.text(max_size=20),
            values,
        ),
        min_size=1,
        max_size=4,
    )
    loop = asyncio.new_event_loop()

    @FUZZ
    @given(texts=frame_texts)
    def fuzz(texts):
        loop.run_until_complete(
            _fuzz(
                fuzz_server,
                NOTIFICATIONS,
                cookie,
                texts,
                sentinel='{"type": "ping"}',
                answer="pong",
                max_bytes=NOTIFICATION_FRAME_BYTES,
            )
        )

    try:
        fuzz()
    finally:
        loop.close()
    assert not crashes_in(fuzz_server.output()), fuzz_server.output()

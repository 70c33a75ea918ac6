"""The room protocol's declarations: what they refuse on the way in, the handler registry,
and what they catch on the way out."""

import msgspec
import pytest
from django.core.exceptions import ImproperlyConfigured

from core.errors import ApplicationError
from realtime.protocol import Error, HandlerRegistry, ProtocolViolationError, encode, frame_type
from rooms import events, protocol
from rooms.handlers import room_handlers
from rooms.protocol import ROOM

# A value of the wrong JSON type for each kind of field.
WRONG_TYPE = {int: "1", bool: "yes", str: 5}
VALID = {
    "user_id": 7,
    "muted": True,
    "emoji": "🔥",
    "offset": 0,
    "to": 7,
    "session": "s-1",
    "sdp": "v=0\r\n",
    "text": "Hello",
    "id": 3,
    "mode": "stage",
    "on": True,
    "consent": True,
}


def _with_fields(declared) -> dict:
    frame = {"type": frame_type(declared)}
    for field in msgspec.inspect.type_info(declared).fields:
        if field.required:
            frame[field.encode_name] = VALID[field.encode_name]
    return frame


REQUIRED = [
    (kind, field.encode_name)
    for kind, declared in ROOM.client.items()
    for field in msgspec.inspect.type_info(declared).fields
    if field.required
]


def test_every_client_frame_has_a_handler():
    assert set(room_handlers.handlers) == set(ROOM.client)


@pytest.mark.parametrize("declared", ROOM.client.values(), ids=list(ROOM.client))
def test_a_well_formed_frame_is_read_with_extra_fields_ignored(declared):
    frame = {**_with_fields(declared), "ref": "r1"}
    if frame["type"] == "signal":
        frame["candidate"] = {"candidate": "c"}
    assert isinstance(ROOM.parse(frame), declared)


@pytest.mark.parametrize(("kind", "field"), REQUIRED)
def test_a_frame_without_a_required_field_is_invalid(kind, field):
    frame = _with_fields(ROOM.client[kind])
    del frame[field]
    with pytest.raises(ApplicationError) as refused:
        ROOM.parse(frame)
    assert refused.value.code == "invalid"
    assert f"`{field}`" in refused.value.message


@pytest.mark.parametrize(("kind", "field"), REQUIRED)
def test_a_field_of_the_wrong_type_is_invalid(kind, field):
    frame = _with_fields(ROOM.client[kind])
    frame[field] = WRONG_TYPE[type(frame[field])]
    with pytest.raises(ApplicationError) as refused:
        ROOM.parse(frame)
    assert refused.value.code == "invalid"
    assert f"$.{field}" in refused.value.message


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "speaker.invite", "user_id": 0},
        {"type": "member.remove", "user_id": -3},
        {"type": "mute.force", "user_id": 2**53},
        {"type": "speaker.invite", "user_id": True},
        {"type": "speaker.invite", "user_id": 1.5},
        {"type": "audience.more", "offset": -1},
        {"type": "mute.set", "muted": 1},
        {"type": "reaction", "emoji": "<script>"},
        {"type": "media.listen", "session": ""},
        {"type": "media.listen", "session": "a b"},
        {"type": "media.leave", "session": "x" * 65},
        {"type": "media.publish", "session": "p", "sdp": ""},
        {"type": "media.publish", "session": "p", "sdp": "v" * (protocol.MAX_SDP_CHARS + 1)},
        {"type": "media.candidate", "session": "p", "candidate": {}},
        {"type": "media.candidate", "session": "p", "candidate": {"candidate": "c", "x": 1}},
        {"type": "media.candidate", "session": "p", "candidate": {"candidate": "c" * 1025}},
        {"type": "signal", "to": 7},
        {"type": "signal", "to": 7, "candidate": {"sdpMLineIndex": 70000}},
        {"type": "signal", "to": 7, "description": {"type": "offer", "sdp": ""}},
        {"type": "signal", "to": 7, "description": {"type": "hello", "sdp": "v=0"}},
        {"type": "signal", "to": 7, "candidate": {}, "session": "a/b"},
    ],
)
def test_bad_shapes_are_invalid(frame):
    with pytest.raises(ApplicationError) as refused:
        ROOM.parse(frame)
    assert refused.value.code == "invalid"


def test_unknown_types_are_refused_as_such():
    with pytest.raises(ApplicationError) as refused:
        ROOM.parse({"type": "media.hack"})
    assert refused.value.code == "unknown_type"
    with pytest.raises(ApplicationError) as refused:
        ROOM.parse({"type": "pong"})  # a server frame is not one a client may send
    assert refused.value.code == "unknown_type"


def test_a_feature_registers_each_declared_frame_once():
    registry = HandlerRegistry(ROOM, default_budget="action")

    async def handle(connection, frame):
        return None

    registry.register(protocol.HandRaise, budget="action")(handle)
    with pytest.raises(ImproperlyConfigured):
        registry.register(protocol.HandRaise, budget="action")(handle)
    with pytest.raises(ImproperlyConfigured):
        registry.register(protocol.Reaction, budget="action")  # a server frame
    assert registry.budget_of("hand.raise") == "action"
    assert registry.budget_of("media.listen") == "action"  # unknown to it: the default


def test_signalling_frames_count_against_the_signalling_budget():
    budgets = {kind: room_handlers.budget_of(kind) for kind in ROOM.client}
    signalling = {kind for kind, budget in budgets.items() if budget == "signal"}
    assert signalling == {"signal"} | {kind for kind in ROOM.client if kind.startswith("media.")}


def test_numbered_frames_are_the_state_events():
    assert ROOM.numbered == [
        "media.mode",
        "member.joined",
        "member.left",
        "member.updated",
        "members.batch",
        "recording.changed",
        "room.ended",
        "room.updated",
    ]


def test_chat_frames_ride_on_the_room_socket_on_their_own_budget():
    chat = {kind for kind in ROOM.client if kind.startswith("chat.")}
    assert chat == {
        "chat.send",
        "chat.more",
        "chat.delete",
        "chat.mute",
        "chat.unmute",
        "chat.settings",
    }
    assert {room_handlers.budget_of(kind) for kind in chat} == {"chat"}
    assert {"chat.message", "chat.page", "chat.deleted", "chat.muted"} <= set(ROOM.server)


def test_a_frame_type_is_declared_once_per_socket():
    with pytest.raises(ImproperlyConfigured):
        ROOM.extend(client=[protocol.HandRaise], server=[])


# --- on the way out ----------------------------------------------------------------------


def test_a_frame_built_with_a_field_it_does_not_declare_fails_where_it_is_built(live_room):
    with pytest.raises(TypeError):
        events.publish(live_room, protocol.MemberLeft, userid=3)
    with pytest.raises(TypeError):
        protocol.Reaction(user_id=3)


def test_numbered_frames_are_published_and_ephemeral_ones_are_not(live_room):
    with pytest.raises(TypeError):
        events.broadcast(live_room, protocol.MemberLeft(seq=1, user_id=3))


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"member.left","user_id":3}',  # no seq
        '{"type":"member.left","seq":1,"user_id":3,"extra":1}',
        '{"type":"member.left","seq":1,"user":3}',
        '{"type":"reaction","user_id":"3","emoji":"🔥"}',
        '{"type":"speaking","user_ids":[0]}',
        '{"type":"error","code":"x"}',
        '{"type":"hello"}',
    ],
)
def test_the_contract_check_catches_frames_unlike_their_declaration(text):
    with pytest.raises(ProtocolViolationError):
        ROOM.check_sent(text)


def test_the_contract_check_passes_a_declared_frame():
    assert ROOM.check_sent(encode(Error(code="invalid", message="No.", ref="r1"))) == "error"

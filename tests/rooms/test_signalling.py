import msgspec
import pytest

from core.errors import ApplicationError
from rooms.media.signalling import sdp_sends_media, signal_route
from rooms.models import RoomMember
from rooms.protocol import ROOM, SignalRelay
from tests.factories import UserFactory
from tests.rooms.factories import member

Role = RoomMember.Role

HEAD = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def sdp(*sections, session=""):
    body = HEAD + (f"a={session}\r\n" if session else "")
    for kind, direction, port in sections:
        body += f"m={kind} {port} UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
        if direction:
            body += f"a={direction}\r\n"
    return body


@pytest.mark.parametrize(
    ("description", "sends"),
    [
        (sdp(("audio", "recvonly", 9)), False),
        (sdp(("audio", "inactive", 9)), False),
        (sdp(("audio", "recvonly", 9), ("audio", "inactive", 9)), False),
        (sdp(("audio", "sendrecv", 9)), True),
        (sdp(("audio", "sendonly", 9)), True),
        (sdp(("audio", None, 9)), True),
        (sdp(("audio", None, 9), session="recvonly"), False),
        (sdp(("audio", "sendrecv", 9), session="recvonly"), True),
        (sdp(("audio", "recvonly", 9), ("audio", "sendrecv", 9)), True),
        (sdp(("audio", "sendrecv", 0)), False),
        (sdp(("video", "sendonly", 9)), True),
        (sdp(("application", None, 9)), True),
        (HEAD, False),
    ],
)
def test_which_descriptions_send_media(description, sends):
    assert sdp_sends_media(description) is sends


@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"to": "7", "candidate": {}},
        {"to": True, "candidate": {}},
        {"to": 7},
        {"to": 7, "candidate": {}, "description": {"type": "offer", "sdp": "x"}},
        {"to": 7, "description": {"type": "hello", "sdp": "x"}},
        {"to": 7, "description": {"type": "offer"}},
        {"to": 7, "description": "v=0"},
        {"to": 7, "candidate": {"candidate": "x", "evil": 1}},
        {"to": 7, "candidate": "candidate:1"},
        {"to": 7, "candidate": {"candidate": 5}},
        {"to": 7, "candidate": {"candidate": "c", "sdpMLineIndex": "0"}},
        {"to": 0, "candidate": {}},
        {"to": 7, "description": {"type": "offer", "sdp": "x" * (16 * 1024 + 1)}},
        {"to": 7, "candidate": {}, "session": ""},
        {"to": 7, "candidate": {}, "session": 12},
        {"to": 7, "candidate": {}, "session": "a b"},
        {"to": 7, "candidate": {}, "session": "x" * 65},
    ],
)
def test_malformed_signals_are_refused(frame):
    with pytest.raises(ApplicationError) as raised:
        ROOM.parse({"type": "signal", **frame})
    assert raised.value.code == "invalid"


def _relayed(frame: dict) -> dict:
    """What the member named in `to` receives for this `signal` from user 3."""
    signal = ROOM.parse({"type": "signal", **frame})
    relay = SignalRelay(
        from_=3,
        session=signal.session,
        description=signal.description or msgspec.UNSET,
        candidate=signal.candidate or msgspec.UNSET,
    )
    return msgspec.to_builtins(relay)


def test_a_well_formed_signal_is_relayed_as_it_came():
    relayed = _relayed({"to": 7, "candidate": {"candidate": "c", "sdpMid": "0"}, "x": 1})
    assert relayed == {"type": "signal", "from": 3, "candidate": {"candidate": "c", "sdpMid": "0"}}


def test_a_description_is_relayed_without_fields_of_its_own():
    description = {"type": "offer", "sdp": "v=0", "extra": 1}
    relayed = _relayed({"to": 7, "description": description})
    assert relayed == {"type": "signal", "from": 3, "description": {"type": "offer", "sdp": "v=0"}}


def test_a_signal_names_its_peer_connection():
    relayed = _relayed({"to": 7, "candidate": {"candidate": "c"}, "session": "pc-4f_Z"})
    assert relayed == {
        "type": "signal",
        "from": 3,
        "session": "pc-4f_Z",
        "candidate": {"candidate": "c"},
    }


@pytest.fixture
def mesh(live_room, host):
    people = {
        "host": host,
        "speaker": UserFactory(),
        "listener": UserFactory(),
        "listener2": UserFactory(),
    }
    member(live_room, host, Role.MODERATOR, channel="c!host")
    member(live_room, people["speaker"], Role.SPEAKER, channel="c!speaker")
    member(live_room, people["listener"], channel="c!listener")
    member(live_room, people["listener2"], channel="c!listener2")
    return live_room, people


def _route(room, sender, target, description=None):
    content = {"description": description} if description else {"candidate": {"candidate": "c"}}
    signal = ROOM.parse({"type": "signal", "to": target.pk, **content})
    return signal_route(room_id=room.pk, sender_id=sender.pk, signal=signal)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sender", "target", "allowed"),
    [
        ("host", "speaker", True),
        ("host", "listener", True),
        ("speaker", "listener", True),
        ("listener", "speaker", True),
        ("listener", "host", True),
        ("listener", "listener2", False),
    ],
)
def test_signals_follow_the_mesh_edges(mesh, sender, target, allowed):
    room, people = mesh
    if allowed:
        assert _route(room, people[sender], people[target]) == f"c!{target}"
    else:
        with pytest.raises(ApplicationError) as raised:
            _route(room, people[sender], people[target])
        assert raised.value.status == 403


@pytest.mark.django_db
def test_signals_never_leave_the_room(mesh, host):
    room, people = mesh
    outsider = UserFactory()
    with pytest.raises(ApplicationError) as raised:
        _route(room, people["speaker"], outsider)
    assert raised.value.status == 404
    with pytest.raises(ApplicationError) as raised:
        _route(room, outsider, people["speaker"])
    assert raised.value.status == 403


@pytest.mark.django_db
def test_a_listener_may_not_offer_to_send(mesh):
    room, people = mesh
    sending = {"type": "offer", "sdp": sdp(("audio", "sendrecv", 9))}
    with pytest.raises(ApplicationError) as raised:
        _route(room, people["listener"], people["speaker"], description=sending)
    assert raised.value.code == "sdp_sends_audio"
    receiving = {"type": "answer", "sdp": sdp(("audio", "recvonly", 9))}
    assert _route(room, people["listener"], people["speaker"], description=receiving) == "c!speaker"


@pytest.mark.django_db
def test_a_speaker_may_offer_to_send(mesh):
    room, people = mesh
    sending = {"type": "offer", "sdp": sdp(("audio", "sendrecv", 9))}
    assert _route(room, people["speaker"], people["listener"], description=sending) == "c!listener"


@pytest.mark.django_db
def test_a_disconnected_peer_gets_no_signals(mesh):
    room, people = mesh
    RoomMember.objects.filter(user=people["speaker"]).update(channel_name="")
    with pytest.raises(ApplicationError) as raised:
        _route(room, people["host"], people["speaker"])
    assert raised.value.status == 404

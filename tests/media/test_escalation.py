"""When a room moves from the mesh to the media server, and what a full room says."""

import pytest

from core.errors import ApplicationError
from rooms.models import MediaBridge, Room, RoomMember
from rooms.selectors import room_snapshot
from rooms.services.lifecycle import room_create
from rooms.services.presence import room_join
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_mesh(settings):
    settings.ROOM_MESH_MAX_MEMBERS = 3
    settings.ROOM_MAX_MEMBERS = 5
    settings.ROOM_MEDIA = "auto"


def fill(room: Room, count: int) -> list:
    people = UserFactory.create_batch(count)
    for person in people:
        room_join(user=person, room_id=room.pk, channel_name=f"c-{person.pk}")
    return people


def test_a_room_that_outgrows_the_mesh_moves_to_the_media_server_once_and_says_so(
    small_mesh, settings, listen
):
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    room = room_create(host=UserFactory(), title="Growing")
    room_join(user=room.host, room_id=room.pk, channel_name="host")
    members = listen(room.group_name)
    fill(room, 2)  # three in the room: still the mesh
    room.refresh_from_db()
    assert room.media == Room.Media.MESH

    fill(room, 1)  # the fourth moves it
    room.refresh_from_db()
    assert room.media == Room.Media.SFU
    assert MediaBridge.objects.filter(room=room).exists()
    moved = [f for f in members.frames() if f["type"] == "media.mode"]
    assert [(f["mode"], f["seq"]) for f in moved] == [("sfu", room.seq)]

    fill(room, 4)  # past ROOM_MAX_MEMBERS: the media server carries it; no second move
    assert RoomMember.objects.filter(room=room).count() == 8
    assert len([f for f in members.frames() if f["type"] == "media.mode"]) == 0
    assert room_snapshot(room_id=room.pk, user=room.host).media.mode == "sfu"


def test_without_a_media_server_a_full_room_says_why(small_mesh, settings):
    settings.JANUS_URL = ""
    room = room_create(host=UserFactory(), title="Small")
    fill(room, 5)
    with pytest.raises(ApplicationError) as full:
        fill(room, 1)
    assert full.value.code == "room_full"
    assert "without a media server a room holds 5 people" in full.value.message
    room.refresh_from_db()
    assert room.media == Room.Media.MESH


def test_room_media_mesh_never_moves(small_mesh, settings):
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    settings.ROOM_MEDIA = "mesh"
    room = room_create(host=UserFactory(), title="Mesh only")
    fill(room, 5)
    room.refresh_from_db()
    assert room.media == Room.Media.MESH
    with pytest.raises(ApplicationError):
        fill(room, 1)


def test_room_media_sfu_starts_rooms_on_the_media_server(settings):
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    settings.ROOM_MEDIA = "sfu"
    room = room_create(host=UserFactory(), title="Big from the start")
    assert room.media == Room.Media.SFU
    assert MediaBridge.objects.filter(room=room).exists()

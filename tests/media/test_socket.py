"""The room socket's media frames against a real Janus: what each person may do, and a
clear `error` for every bad frame (nothing of it reaches Janus)."""

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.media.test_control import OFFER
from tests.rooms.sockets import Socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def sfu_room(janus, settings) -> Room:
    settings.ROOM_MEDIA = "sfu"
    return room_create(host=UserFactory(username="host"), title="On Janus")


@pytest.fixture
async def listener(sfu_room):
    socket = Socket(await database_sync_to_async(UserFactory)(), sfu_room.pk)
    snapshot = await socket.open()
    assert snapshot["media"] == {"mode": "sfu"}
    yield socket
    await socket.close()


async def error_for(socket: Socket, kind: str, **fields) -> str:
    await socket.send(kind, **fields)
    return (await socket.next_of("error"))["code"]


async def test_a_listener_gets_the_mountpoints_offer_and_nothing_of_janus_reaches_the_page(
    listener,
):
    await listener.send("media.listen", session="l1")
    offer = await listener.next_of("media.offer")
    assert offer["session"] == "l1"
    assert "m=audio" in offer["sdp"]
    assert "a=sendonly" in offer["sdp"]
    for secret in (settings.JANUS_API_SECRET, settings.JANUS_ADMIN_KEY, settings.JANUS_URL):
        assert secret not in offer["sdp"]


async def test_bad_media_frames_get_clear_errors(listener):
    assert await error_for(listener, "media.listen", session="no spaces") == "invalid"
    assert await error_for(listener, "media.listen", session="x" * 65) == "invalid"
    assert await error_for(listener, "media.candidate", session="nope", candidate=None) == (
        "unknown_session"
    )
    assert await error_for(listener, "media.answer", session="nope", sdp=OFFER) == (
        "unknown_session"
    )
    assert await error_for(listener, "media.publish", session="p1", sdp="v=0\r\n" * 5000) == (
        "invalid"
    )
    two_sections = OFFER + OFFER[OFFER.index("m=audio") :]
    assert await error_for(listener, "media.publish", session="p1", sdp=two_sections) == (
        "invalid_sdp"
    )
    assert await error_for(listener, "media.publish", session="p1", sdp=OFFER) == "forbidden"
    assert await error_for(listener, "media.hack", session="p1") == "unknown_type"
    # A listener's answer must not send.
    await listener.send("media.listen", session="l1")
    await listener.next_of("media.offer")
    assert await error_for(listener, "media.answer", session="l1", sdp=OFFER) == ("sdp_sends_audio")
    # The connection is still fine.
    assert await listener.still_open()


async def test_a_mesh_room_refuses_media_frames(janus, settings):
    settings.ROOM_MEDIA = "auto"
    room = await database_sync_to_async(lambda: room_create(host=UserFactory(), title="Small"))()
    socket = Socket(await database_sync_to_async(UserFactory)(), room.pk)
    await socket.open()
    assert await error_for(socket, "media.listen", session="l1") == "not_on_media_server"
    await socket.close()


async def test_with_janus_down_media_frames_get_an_error_and_the_socket_stays(janus, listener):
    janus.stop()
    assert await error_for(listener, "media.listen", session="l1") == "media_unavailable"
    assert await listener.still_open()

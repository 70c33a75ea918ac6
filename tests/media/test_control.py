"""The server commands a real Janus: rooms made, mended and destroyed; kicks, mutes,
reconciliation. No media flows here: participants join with an offer Janus answers."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings

from rooms.media import services as media
from rooms.media.control import Control, control_run
from rooms.media.janus import AUDIOBRIDGE, JanusError, Session
from rooms.models import MediaBridge, Room
from rooms.services.lifecycle import room_create, room_end
from tests.factories import UserFactory
from tests.support.servers import JanusProcess

pytestmark = pytest.mark.django_db(transaction=True)

# A minimal audio offer, as a browser makes it (Janus answers it without media flowing).
OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=rtpmap:111 opus/48000/2",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "",
    ]
)


def state(bridge: MediaBridge) -> dict:
    """What Janus holds for this bridge: does the room exist, its forwarders, participants."""

    async def read(control: Control):
        rooms = await control.room_ids()
        mountpoints = await control.mountpoint_ids()
        bridges, _ = await control._handles()
        forwarders = []
        if bridge.janus_id in rooms:
            listed = await bridges.request(
                {"request": "listforwarders", "room": bridge.janus_id, "secret": bridge.secret}
            )
            forwarders = listed["rtp_forwarders"]
        return {
            "room": bridge.janus_id in rooms,
            "mountpoint": bridge.janus_id in mountpoints,
            "forwarders": forwarders,
            "participants": await control.participant_ids(bridge),
        }

    return control_run(read)


def sfu_room(settings_fixture) -> Room:
    settings_fixture.ROOM_MEDIA = "sfu"
    return room_create(host=UserFactory(), title="Big talk")


async def join_participant(bridge: MediaBridge, user_id: int) -> tuple[Session, list]:
    """A participant joined the way the server joins a speaker, on a session of its own;
    returns the session and the list its handle's events arrive in."""
    session = await Session.connect(settings.JANUS_URL, settings.JANUS_API_SECRET)
    events = []
    handle = await session.attach(AUDIOBRIDGE, on_event=events.append)
    _, jsep = await handle.message(
        {"request": "join", "room": bridge.janus_id, "id": user_id, "pin": bridge.pin},
        {"type": "offer", "sdp": OFFER},
    )
    assert jsep["type"] == "answer"
    return session, events


async def kicked(events: list, user_id: int) -> bool:
    """Waits for Janus to tell the participant's handle it was kicked."""
    for _ in range(100):
        if any(e.get("plugindata", {}).get("data", {}).get("kicked") == user_id for e in events):
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_room_started_with_room_media_sfu_gets_a_bridge_a_mountpoint_and_one_forward(
    janus, settings
):
    room = sfu_room(settings)
    assert room.media == Room.Media.SFU
    mountpoint = media.mountpoint_take(room_id=room.pk)
    bridge = mountpoint.bridge
    seen = state(bridge)
    assert seen["room"]
    assert seen["mountpoint"]
    assert [(f["ip"], f["port"]) for f in seen["forwarders"]] == [("127.0.0.1", mountpoint.port)]
    # Taking another place unverified (another server process, a reconnect) adds nothing.
    again = media.mountpoint_take(room_id=room.pk)
    assert len(state(bridge)["forwarders"]) == 1
    assert (again.pk, again.listeners) == (mountpoint.pk, 2)
    media.mountpoint_release(mountpoint_id=again.pk)
    again.refresh_from_db()
    assert again.listeners == 1


def test_after_janus_loses_a_room_the_next_listener_makes_it_again_with_its_forward(
    janus, settings
):
    room = sfu_room(settings)
    bridge = media.mountpoint_take(room_id=room.pk).bridge
    control_run(lambda c: c.destroy(bridge))
    assert not state(bridge)["room"]
    media.mountpoint_take(room_id=room.pk)
    seen = state(bridge)
    assert seen["room"]
    assert seen["mountpoint"]
    assert len(seen["forwarders"]) == 1


def test_listeners_past_the_per_server_limit_go_to_an_edge_fed_by_the_stage(
    janus, settings, janus_secrets, tmp_path
):
    edge = JanusProcess(tmp_path, JANUS_FORWARD_PORT_RANGE="45001-46000", **janus_secrets)
    edge.start()
    try:
        settings.JANUS_SERVERS = [f"unix:{edge.socket}"]
        settings.JANUS_LISTENERS_PER_SERVER = 2
        room = sfu_room(settings)
        places = [media.mountpoint_take(room_id=room.pk) for _ in range(3)]
        assert [p.server for p in places] == [settings.JANUS_URL] * 2 + [f"unix:{edge.socket}"]
        bridge = places[0].bridge
        # The stage's Janus forwards the mix to both mountpoints.
        forwarded = {(f["ip"], f["port"]) for f in state(bridge)["forwarders"]}
        assert forwarded == {("127.0.0.1", places[0].port), ("127.0.0.1", places[2].port)}
        edge_has = control_run(lambda c: c.mountpoint_ids(), f"unix:{edge.socket}")
        assert bridge.janus_id in edge_has
        # The end of the room clears both servers.
        room_end(actor=room.host, room_id=room.pk)
        assert bridge.janus_id not in control_run(
            lambda c: c.mountpoint_ids(), f"unix:{edge.socket}"
        )
        assert not MediaBridge.objects.filter(pk=bridge.pk).exists()
    finally:
        edge.stop()


def test_the_passwords_are_ours_and_a_wrong_pin_cannot_join(janus, settings):
    room = sfu_room(settings)
    bridge = media.bridge_provision(room_id=room.pk)

    async def join_with_wrong_pin():
        session = await Session.connect(settings.JANUS_URL, settings.JANUS_API_SECRET)
        try:
            handle = await session.attach(AUDIOBRIDGE)
            await handle.message({"request": "join", "room": bridge.janus_id, "pin": "guess"})
        finally:
            await session.close()

    with pytest.raises(JanusError) as refused:
        async_to_sync(join_with_wrong_pin)()
    assert refused.value.code == 489  # unauthorized


def test_janus_refuses_a_client_without_the_api_secret(janus, settings):
    async def connect():
        session = await Session.connect(settings.JANUS_URL, "wrong")
        await session.close()

    with pytest.raises(JanusError):
        async_to_sync(connect)()


def test_ending_the_room_destroys_its_bridge_and_mountpoint_at_janus(janus, settings):
    room = sfu_room(settings)
    bridge = media.mountpoint_take(room_id=room.pk).bridge
    room_end(actor=room.host, room_id=room.pk)
    seen = state(bridge)
    assert not seen["room"]
    assert not seen["mountpoint"]
    assert not MediaBridge.objects.filter(pk=bridge.pk).exists()


@pytest.mark.usefixtures("thread_connections_closed")
async def test_kick_and_mute_act_on_the_participant_at_janus(janus, settings):
    room = await database_sync_to_async(sfu_room)(settings)
    bridge = await database_sync_to_async(media.bridge_provision)(room_id=room.pk)
    session, events = await join_participant(bridge, 4242)
    control = Control(session)
    assert await control.participant_ids(bridge) == {4242}

    async def muted_flags():
        bridges, _ = await control._handles()
        listed = await bridges.request({"request": "listparticipants", "room": bridge.janus_id})
        return {p["id"]: p["muted"] for p in listed["participants"]}

    await control.mute(bridge, 4242, True)
    assert await muted_flags() == {4242: True}
    await control.mute(bridge, 4242, False)
    assert await muted_flags() == {4242: False}
    await control.kick(bridge, 4242)
    assert await kicked(events, 4242)
    await session.close()


@pytest.mark.usefixtures("thread_connections_closed")
async def test_reconcile_kicks_participants_not_on_stage_and_destroys_rooms_nobody_owns(
    janus, settings
):
    room = await database_sync_to_async(sfu_room)(settings)
    bridge = await database_sync_to_async(media.bridge_provision)(room_id=room.pk)
    # Someone Janus has in the bridge whom the database does not put on stage.
    session, events = await join_participant(bridge, 777)
    control = Control(session)
    # A room of ours whose row is gone (the database was restored from a backup, say).
    orphan = MediaBridge(janus_id=123456789)
    await control.bridge_ensure(orphan)
    await control.mountpoint_ensure(orphan, host="127.0.0.1", port=None)
    assert orphan.janus_id in await control.room_ids()

    done = await database_sync_to_async(media.media_reconcile)()

    assert done == {"destroyed": 1, "kicked": 1}
    assert orphan.janus_id not in await control.room_ids()
    assert orphan.janus_id not in await control.mountpoint_ids()
    assert bridge.janus_id in await control.room_ids()
    assert await kicked(events, 777)
    await session.close()

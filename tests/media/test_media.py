"""Real audio through a real Janus, with aiortc peers inside a network namespace of the
test's own: listeners hear the stage, and the server's rights hold at Janus without the
speaker's cooperation."""

import asyncio

import pytest

from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.media import stack
from tests.media.conftest import REQUIRE_MEDIA, janus_or_skip
from tests.media.netns import Namespace, namespaces_available
from tests.media.peers import RoomClient
from tests.servers import session_keys

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media_stack(settings, janus_secrets):
    """Janus inside a namespace, daphne outside on the same settings, its port reachable
    inside. Yields (namespace, server, janus)."""
    janus_or_skip()
    if not namespaces_available():
        if REQUIRE_MEDIA:
            pytest.fail("Media tests need root and `ip` for a network namespace.")
        pytest.skip("Media tests need root and `ip` for a network namespace.")
    with stack.media_stack(janus_secrets) as (namespace, server, janus, media_env):
        for name, value in media_env.items():
            setattr(settings, name, value)
        yield namespace, server, janus


def run_inside(namespace: Namespace, scenario) -> None:
    """Runs the async scenario in a thread inside the namespace (its peers' sockets too)."""
    namespace.inside(lambda: asyncio.run(scenario()))


def test_listeners_hear_the_stage_and_mutes_and_moves_to_the_audience_hold_at_janus(
    media_stack,
):
    namespace, server, _ = media_stack
    host, guest, ann, bob = (UserFactory(username=name) for name in ("host", "guest", "ann", "bob"))
    room = room_create(host=host, title="Janus talk")
    keys = dict(
        zip(("host", "guest", "ann", "bob"), session_keys([host, guest, ann, bob]), strict=True)
    )
    outcome = {}

    async def scenario():
        clients = {
            name: RoomClient(server.port, room.pk, keys[name], name)
            for name in ("host", "guest", "ann", "bob")
        }
        snapshot = await clients["host"].open()
        outcome["mode"] = snapshot["media"]["mode"]
        for name in ("guest", "ann", "bob"):
            await clients[name].open()
        # The guest comes on stage, as a browser's person would.
        await clients["host"].send("speaker.invite", user_id=guest.pk)
        await clients["guest"].next_of("speaker.invited")
        await clients["guest"].send("speaker.accept")
        await clients["guest"].send("mute.set", muted=False)
        await clients["ann"].listen()
        await clients["bob"].listen()
        await clients["guest"].publish()
        outcome["ann_heard"] = await clients["ann"].hears()
        outcome["bob_heard"] = await clients["bob"].hears()
        # Speaking rings: the server relays Janus's talking events.
        outcome["speaking"] = await clients["ann"].speaking_includes(guest.pk)
        # A moderator's mute silences them at Janus while their peer keeps sending.
        await clients["host"].send("mute.force", user_id=guest.pk)
        outcome["muted_silent"] = await clients["ann"].silent_for(2.0)
        await clients["guest"].send("mute.set", muted=False)
        outcome["unmuted_heard"] = await clients["ann"].hears()
        # A listener may not publish.
        await clients["ann"].send(
            "media.publish", session="sneaky", sdp=clients["guest"].pc.localDescription.sdp
        )
        outcome["listener_publish"] = (await clients["ann"].next_of("error"))["code"]
        # The host moves the guest back to the audience. The guest's peer keeps sending.
        await clients["host"].send("speaker.remove", user_id=guest.pk)
        outcome["hangup"] = (await clients["guest"].next_of("media.hangup"))["reason"]
        outcome["ann_silent"] = await clients["ann"].silent_for(2.0)
        outcome["bob_silent"] = await clients["bob"].silent_for(2.0)
        for client in clients.values():
            await client.close()

    run_inside(namespace, scenario)

    assert outcome["mode"] == "sfu"
    assert outcome["ann_heard"]
    assert outcome["bob_heard"]
    assert outcome["speaking"]
    assert outcome["muted_silent"]
    assert outcome["unmuted_heard"]
    assert outcome["listener_publish"] == "forbidden"
    assert outcome["hangup"] == "moved_to_audience"
    assert outcome["ann_silent"]
    assert outcome["bob_silent"]


def test_after_janus_dies_clients_are_told_and_hear_again_once_it_is_back(media_stack):
    namespace, server, janus = media_stack
    host, ann = UserFactory(username="host"), UserFactory(username="ann")
    room = room_create(host=host, title="Janus restarts")
    keys = session_keys([host, ann])
    outcome = {}

    async def scenario():
        speaker = RoomClient(server.port, room.pk, keys[0], "host")
        listener = RoomClient(server.port, room.pk, keys[1], "ann")
        await speaker.open()
        await listener.open()
        await speaker.send("mute.set", muted=False)
        await listener.listen("l1")
        await speaker.publish("p1")
        outcome["before"] = await listener.hears()
        janus.kill()
        outcome["listener_told"] = (await listener.next_of("media.hangup"))["reason"]
        outcome["speaker_told"] = (await speaker.next_of("media.hangup"))["reason"]
        await asyncio.to_thread(janus.start)
        # What the browser does on `media_lost`: start over.
        await speaker.pc.close()
        await listener.pc.close()
        await listener.listen("l2")
        await speaker.publish("p2")
        outcome["after"] = await listener.hears()
        await speaker.close()
        await listener.close()

    run_inside(namespace, scenario)

    assert outcome["before"]
    assert outcome["listener_told"] == "media_lost"
    assert outcome["speaker_told"] == "media_lost"
    assert outcome["after"]

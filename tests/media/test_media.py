"""Real audio through a real Janus, with aiortc peers inside a network namespace of the
test's own: listeners hear the stage, and the server's rights hold at Janus without the
speaker's cooperation."""

import asyncio
import subprocess
import sys

import pytest

from follows.services import block_create
from rooms.models import MediaMountpoint
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.netns import run_inside
from tests.support.peers import RoomClient
from tests.support.servers import project_env, session_keys
from tests.support.stack import MediaStack, media_stack_or_skip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media_stack(settings, janus_secrets):
    """Starts a MediaStack (`media_stack(edges=1, NAME=value)`) and stops it after."""
    media_stack_or_skip()
    started = []

    def start(edges: int = 0, **server_env):
        stack = MediaStack(janus_secrets, edges=edges, ROOM_MEDIA="sfu", **server_env)
        started.append(stack.start())
        stack.settings_for(settings)
        return stack

    yield start
    for stack in started:
        stack.stop()


def test_listeners_hear_the_stage_and_mutes_and_moves_to_the_audience_hold_at_janus(
    media_stack,
):
    stack = media_stack()
    namespace, server = stack.namespace, stack.server
    host, guest, ann, bob = (UserFactory(username=name) for name in ("host", "guest", "ann", "bob"))
    room = room_create(host=host, title="Janus talk")
    keys = dict(
        zip(("host", "guest", "ann", "bob"), session_keys([host, guest, ann, bob]), strict=True)
    )
    outcome = {}

    async def scenario(outside):
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
    stack = media_stack()
    namespace, server, janus = stack.namespace, stack.server, stack.janus
    host, ann = UserFactory(username="host"), UserFactory(username="ann")
    room = room_create(host=host, title="Janus restarts")
    keys = session_keys([host, ann])
    outcome = {}

    async def scenario(outside):
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


def test_listeners_on_an_edge_hear_the_stage_as_well_as_those_on_its_own_janus(media_stack):
    stack = media_stack(edges=1, JANUS_LISTENERS_PER_SERVER=1)
    host, ann, bob = (UserFactory(username=name) for name in ("host", "ann", "bob"))
    room = room_create(host=host, title="Two machines")
    keys = session_keys([host, ann, bob])
    outcome = {}

    async def scenario(outside):
        speaker, *listeners = (
            RoomClient(stack.server.port, room.pk, key, name)
            for key, name in zip(keys, ("host", "ann", "bob"), strict=True)
        )
        await speaker.open()
        await speaker.send("mute.set", muted=False)
        await speaker.publish()
        for listener in listeners:
            await listener.open()
            await listener.listen()
        outcome["heard"] = [await listener.hears() for listener in listeners]
        for client in (speaker, *listeners):
            await client.close()

    run_inside(stack.namespace, scenario)

    assert outcome["heard"] == [True, True]
    places = dict(
        MediaMountpoint.objects.filter(bridge__room=room).values_list("server", "listeners")
    )
    assert set(places) == {f"unix:{stack.janus.socket}", f"unix:{stack.edges[0].socket}"}


def suspend_from_another_process(staff, user) -> None:
    """Staff suspend someone the way admin does, in a process of its own (so the push that
    closes their sockets travels the way it does in production)."""
    code = (
        "from datetime import timedelta; from accounts.models import User; "
        "from moderation.services.restrictions import user_suspend; "
        f"user_suspend(actor=User.objects.get(pk={staff.pk}), user=User.objects.get(pk={user.pk}), "
        "duration=timedelta(days=1), reason='spam')"
    )
    subprocess.run(
        [sys.executable, "-m", "django", "shell", "-c", code],
        env=project_env(DJANGO_SETTINGS_MODULE="config.settings"),
        check=True,
        capture_output=True,
    )


def test_a_block_and_a_suspension_cut_a_speaker_off_at_janus(media_stack):
    stack = media_stack()
    host, blocked, suspended, ann = (
        UserFactory(username=name) for name in ("host", "blocked", "suspended", "ann")
    )
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    room = room_create(host=host, title="Hold the line")
    keys = session_keys([host, blocked, suspended, ann])
    outcome = {}

    async def scenario(outside):
        moderator, *speakers, listener = (
            RoomClient(stack.server.port, room.pk, key, name)
            for key, name in zip(keys, ("host", "blocked", "suspended", "ann"), strict=True)
        )
        await moderator.open()
        await listener.open()
        await listener.listen()
        cut_offs = (
            lambda: block_create(blocker=host, blocked=blocked),
            lambda: suspend_from_another_process(staff, suspended),
        )
        for speaker, person, cut_off in zip(speakers, (blocked, suspended), cut_offs, strict=True):
            await speaker.open()
            await moderator.send("speaker.invite", user_id=person.pk)
            await speaker.next_of("speaker.invited")
            await speaker.send("speaker.accept")
            await speaker.send("mute.set", muted=False)
            await speaker.publish()
            heard = await listener.hears()
            await outside(cut_off)
            # Their peer keeps sending; Janus no longer mixes it.
            outcome[speaker.name] = (heard, await listener.silent_for(2.0))
        for client in (moderator, *speakers, listener):
            await client.close()

    run_inside(stack.namespace, scenario)

    assert outcome == {"blocked": (True, True), "suspended": (True, True)}

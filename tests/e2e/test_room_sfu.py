"""Rooms on the media server in real browsers: Chromium pages and Janus inside a network
namespace of the test's own (see tests/support/netns.py), daphne outside. The audience hears
the stage's mix through one connection, so who is heard is told apart by muting."""

import os

import pytest
from channels.db import database_sync_to_async
from playwright.async_api import async_playwright

from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, follower_of
from tests.support.browser import AUTOPLAY, CHROMIUM_ARGS
from tests.support.pages import (
    audio,
    eventually,
    hears_nobody,
    hears_someone,
    join,
    unmute,
)
from tests.support.stack import MediaStack, media_stack_or_skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def media(request, settings, janus_secrets):
    """Janus in a namespace and daphne beside it; `indirect` parameters change settings."""
    media_stack_or_skip()
    overrides = getattr(request, "param", {"ROOM_MEDIA": "sfu"})
    stack = MediaStack(janus_secrets, **overrides).start()
    stack.settings_for(settings)
    yield stack
    stack.stop()


@pytest.fixture
def server(media):
    return media.server


@pytest.fixture
def microphone(request, voice_file, speech_file):
    """What the fake microphones play: the voice-like sound, or (parametrized indirectly with
    "speech") a sentence spoken by espeak-ng."""
    return speech_file if getattr(request, "param", None) == "speech" else voice_file


@pytest.fixture
async def browser(chromium_path, microphone, media, tmp_path):
    """Chromium inside the namespace, where Janus's candidates are."""
    wrapper = tmp_path / "chromium-in-namespace"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(media.namespace.prefix)} {chromium_path} "$@"\n')
    os.chmod(wrapper, 0o755)  # noqa: S103 -- a script of the test's own, in its own folder
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=str(wrapper),
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={microphone}", AUTOPLAY],
        )
        yield instance
        await instance.close()


async def mode(page) -> str:
    return (await audio(page))["mode"]


async def send(page, frame: dict) -> None:
    await page.evaluate("(frame) => window.roundtable.socket.send(frame)", frame)


async def mute_button(page) -> None:
    await page.click("[data-action=mute][aria-pressed=false]")
    await page.wait_for_selector("[data-action=mute][aria-pressed=true]")


@pytest.fixture
def people():
    host = UserFactory(username="host", display_name="Host")
    return {
        "host": host,
        # A co-host follows the host.
        "sam": follower_of(host, username="sam", display_name="Sam"),
        **{name: UserFactory(username=name, display_name=name.title()) for name in ("ann", "bob")},
    }


async def test_the_audience_hears_the_stage_through_janus_and_a_speaker_moved_back_goes_quiet(
    server, signed_in, people
):
    host, ann, bob = people["host"], people["ann"], people["bob"]
    room = await database_sync_to_async(room_create)(host=host, title="Big room")
    host_page = await join(signed_in, server, room, host, talk=True)
    ann_page = await join(signed_in, server, room, ann)
    bob_page = await join(signed_in, server, room, bob)
    assert await mode(host_page) == "sfu"

    # 1. Two listeners hear the host through Janus; a listener never gets a microphone.
    await hears_someone(ann_page, "Ann hearing the host")
    await hears_someone(bob_page, "Bob hearing the host")
    assert (await audio(ann_page))["micRequests"] == 0

    # 2. The host mutes: silence (so what they heard was the host).
    await mute_button(host_page)
    await hears_nobody(bob_page, "silence once the host muted")

    # 3. Ann is invited up, accepts and talks: the host and Bob hear her.
    await send(host_page, {"type": "speaker.invite", "user_id": ann.pk})
    await ann_page.click("[data-action=accept]")
    await unmute(ann_page)
    await hears_someone(host_page, "the host hearing Ann")
    await hears_someone(bob_page, "Bob hearing Ann")

    # 4. The host talks too: both speakers hear each other.
    await unmute(host_page)
    await hears_someone(ann_page, "Ann hearing the host from the stage")

    # 5. The host mutes and moves Ann back: her voice stops at the listeners, and she
    # listens again.
    await mute_button(host_page)
    await send(host_page, {"type": "speaker.remove", "user_id": ann.pk})
    await hears_nobody(bob_page, "silence once Ann is back in the audience")

    async def ann_listens():
        state = await audio(ann_page)
        kinds = [c["kind"] for c in state["connections"] if c.get("ready")]
        return state if kinds == ["listen"] and not state["mic"] else None

    await eventually(ann_listens, "Ann listening again, her microphone released")


@pytest.mark.parametrize(
    "media", [{"ROOM_MEDIA": "auto", "ROOM_MESH_MAX_MEMBERS": 3}], indirect=True
)
async def test_a_room_that_outgrows_the_mesh_moves_live_and_everyone_still_hears_every_speaker(
    server, signed_in, people
):
    host, sam, ann, bob = (people[name] for name in ("host", "sam", "ann", "bob"))
    room = await database_sync_to_async(room_create)(
        host=host, title="Growing room", co_hosts=[sam]
    )
    host_page = await join(signed_in, server, room, host, talk=True)
    sam_page = await join(signed_in, server, room, sam)
    ann_page = await join(signed_in, server, room, ann)
    assert await mode(ann_page) == "mesh"

    # The fourth person moves the room to the media server, for everyone, live.
    bob_page = await join(signed_in, server, room, bob)
    pages = {"host": host_page, "sam": sam_page, "ann": ann_page, "bob": bob_page}

    async def all_moved():
        modes = {name: await mode(page) for name, page in pages.items()}
        return modes if set(modes.values()) == {"sfu"} else None

    await eventually(all_moved, "every page on the media server")

    # The host talks, Sam is muted: everyone else hears the host.
    for name in ("sam", "ann", "bob"):
        await hears_someone(pages[name], f"{name} hearing the host after the move")
    # The host mutes: silence; then Sam talks, and everyone else hears Sam.
    await mute_button(host_page)
    await hears_nobody(ann_page, "silence once the host muted")
    await unmute(sam_page)
    for name in ("host", "ann", "bob"):
        await hears_someone(pages[name], f"{name} hearing Sam after the move")


@pytest.mark.parametrize("microphone", ["speech"], indirect=True)
async def test_the_audience_sees_who_speaks(server, signed_in, people):
    """Real speech (Chromium's own fake microphone beeps once a second, which is no talking
    for Janus's detector, rightly)."""
    host, ann = people["host"], people["ann"]
    room = await database_sync_to_async(room_create)(host=host, title="Rings")
    host_page = await join(signed_in, server, room, host, talk=True)
    listener = await join(signed_in, server, room, ann)
    await hears_someone(listener, "the listener hearing the host")
    ring = f".tile--speaking[data-user-id='{host.pk}']"
    await listener.wait_for_selector(ring)
    await host_page.wait_for_selector(ring)
    # Muted, the host no longer speaks for anyone.
    await mute_button(host_page)
    await listener.wait_for_selector(ring, state="detached")

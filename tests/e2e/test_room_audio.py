"""Audio in real browsers: Chromium pages with fake microphones in a room served by a real
server process, heard through WebRTC statistics."""

import pytest
from channels.db import database_sync_to_async

from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.e2e.room_pages import audio, hears, hears_silence, open_room, sends_nothing
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def room():
    host = UserFactory(username="hana", display_name="Hana Host")
    return room_create(host=host, title="Night radio")


@pytest.fixture
def ann():
    return UserFactory(username="ann", display_name="Ann Listener")


async def _unmute(page):
    button = page.locator("[data-action=mute]")
    await button.wait_for(state="visible")
    await page.wait_for_selector("[data-action=mute][aria-pressed=true]")
    await button.click()
    await page.wait_for_selector("[data-action=mute][aria-pressed=false]")


@database_sync_to_async
def _status(room) -> str:
    return Room.objects.get(pk=room.pk).status


async def test_listener_hears_goes_on_stage_and_the_room_ends(
    server, browser, signed_in, room, ann
):
    host = room.host
    host_page = await signed_in(browser, host)
    await open_room(host_page, server.url, room)
    await _unmute(host_page)
    listener = await signed_in(browser, ann)
    await open_room(listener, server.url, room)

    # 1. The listener hears the host, sends nothing and was never asked for a microphone.
    await hears(listener, host.pk)
    state = await audio(listener)
    assert state["micRequests"] == 0
    assert state["mic"] == []
    assert state["peers"][host.pk]["sent"] == 0
    assert state["players"] == 1

    # 2. A raised hand, an invitation, an acceptance: the host hears the new speaker.
    await listener.click("[data-action=hand]")
    await host_page.click(f".hand[data-user-id='{ann.pk}'] button")
    await listener.click("[data-action=accept]")
    await _unmute(listener)
    await hears(host_page, ann.pk)
    assert (await audio(listener))["micRequests"] == 1

    # 3. The host mutes: what the listener receives from them falls silent.
    await host_page.click("[data-action=mute]")
    await hears_silence(listener, host.pk)

    # 4. The host moves the speaker back to the audience, from the keyboard: they stop
    # sending and release the microphone.
    await host_page.focus(f".tile[data-user-id='{ann.pk}'] summary")
    await host_page.keyboard.press("Enter")
    await host_page.get_by_role("button", name="Move to audience").click()
    await sends_nothing(listener)
    await listener.wait_for_selector("[data-action=hand]:visible")

    # 5. The host ends the room: both pages say so and every connection is closed.
    host_page.on("dialog", lambda dialog: dialog.accept())
    await host_page.click("[data-action=end]")
    for page in (host_page, listener):
        await page.wait_for_selector("text=This room has ended")
        state = await audio(page)
        assert (state["peers"], state["mic"], state["players"]) == ({}, [], 0)
    assert await _status(room) == Room.Status.ENDED

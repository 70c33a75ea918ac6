"""What stays on the page when a room is over for someone (removed, ended) and what the
moderators see of the people who went."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms.services.lifecycle import room_create
from tests.factories import FollowFactory, UserFactory
from tests.support.pages import join, open_room

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def cast():
    host = UserFactory(username="hana", display_name="Hana Host")
    ann = UserFactory(username="ann", display_name="Ann Listener")
    room = room_create(host=host, title="Town hall")
    return room, host, ann


async def _remove(page, user):
    await page.click(f".tile[data-user-id='{user.pk}'] summary")
    await page.get_by_role("button", name="Remove from room", exact=True).click()


async def _shown(page, selector: str) -> bool:
    return await page.locator(selector).is_visible()


async def test_a_removed_listener_keeps_only_the_card(server, signed_in, cast):
    """The page asks who the speakers follow a moment after each change; an answer that
    arrives after the removal used to redraw the room, control bar included, around the
    card. The answer is held until the card shows, then let through."""
    room, host, ann = cast
    await database_sync_to_async(FollowFactory)(follower=host, followee=ann)
    host_page = await join(signed_in, server, room, host)
    listener = await signed_in(ann)
    fetched, release = asyncio.Event(), asyncio.Event()

    async def hold(route):
        response = await route.fetch()
        fetched.set()
        await release.wait()
        await route.fulfill(response=response)

    await listener.route(f"**/api/rooms/{room.pk}/followed-by-speakers/", hold)
    await open_room(listener, server.url, room)
    await fetched.wait()
    await _remove(host_page, ann)
    await listener.wait_for_selector("text=You were removed from this room")
    release.set()
    await listener.wait_for_function(f"window.roundtable.state.followedByStage.has({ann.pk})")
    for part in ("[data-bar]", "[data-body]", ".room-head [data-action=end]"):
        assert not await _shown(listener, part), part
    assert await _shown(listener, "[data-over]")


async def test_the_host_sees_the_audience_empty_after_removing_its_only_listener(
    server, signed_in, cast
):
    room, host, ann = cast
    host_page = await join(signed_in, server, room, host)
    await join(signed_in, server, room, ann)
    await host_page.wait_for_selector(f".tile[data-user-id='{ann.pk}']")
    assert await host_page.text_content("[data-audience-count]") == "(1)"
    await _remove(host_page, ann)
    await host_page.wait_for_selector(f".tile[data-user-id='{ann.pk}']", state="detached")
    assert await host_page.text_content("[data-audience-count]") == "(0)"
    assert await _shown(host_page, "[data-audience-empty]")


async def test_after_ending_the_room_the_hosts_header_says_so(server, signed_in, cast):
    room, host, ann = cast
    host_page = await join(signed_in, server, room, host)
    ann_page = await join(signed_in, server, room, ann)
    host_page.once("dialog", lambda dialog: dialog.accept())
    await host_page.click(".room-head [data-action=end]")
    await host_page.wait_for_selector("text=This room has ended")
    # The host is thanked for hosting; the audience for listening.
    assert await host_page.text_content("[data-over-text]") == "Thanks for hosting."
    await ann_page.wait_for_selector("text=This room has ended")
    assert await ann_page.text_content("[data-over-text]") == "Thanks for listening."
    assert not await _shown(host_page, ".room-head [data-action=end]")
    assert not await _shown(host_page, ".room-head .tag--live")
    assert await host_page.text_content(".room-head [data-room-state]") == "Ended"

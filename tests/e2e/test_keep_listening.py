"""Keep listening while browsing: Turbo Drive swaps pages inside one document, the room's
socket, connections and <audio> elements live on, and the docked player shows the room on
every other page (static/js/player.js)."""

import pytest
from channels.db import database_sync_to_async

from follows.models import Follow
from rooms.models import RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.pages import audio, hears, join

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

# Counts the room sockets a document opens; a full page load starts the count again (and
# forgets `window.sameDocument`).
COUNT_ROOM_SOCKETS = """
window.roomSockets = 0;
const OpenSocket = window.WebSocket;
window.WebSocket = function (url, ...rest) {
  if (String(url).includes("/ws/rooms/")) window.roomSockets += 1;
  return new OpenSocket(url, ...rest);
};
window.WebSocket.prototype = OpenSocket.prototype;
Object.assign(window.WebSocket, { OPEN: 1, CLOSED: 3, CONNECTING: 0, CLOSING: 2 });
"""

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@database_sync_to_async
def _member(room, user):
    return RoomMember.objects.filter(room=room, user=user).first()


async def _listening(signed_in, server, room, user, **size):
    """`user` in the room as a listener, with the room's sockets counted."""
    page = await signed_in(user, **size)
    await page.context.add_init_script(COUNT_ROOM_SOCKETS)
    await _open_room(page, server, room)
    await hears(page, room.host.pk)
    await page.evaluate("window.sameDocument = true")
    return page


async def _open_room(page, server, room):
    await page.goto(f"{server.url}/rooms/{room.pk}/")
    await page.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")


async def _visited(page, path: str) -> None:
    """Waits until Turbo has shown `path` in the same document."""
    await page.wait_for_function(
        "(path) => location.pathname === path && !document.documentElement.hasAttribute('aria-busy')",
        arg=path,
    )
    assert await page.evaluate("window.sameDocument") is True


async def _still_in_the_room(page, room) -> None:
    """The player shows the room, its voice still arrives, through the one socket."""
    player = page.get_by_role("region", name="Now listening")
    await player.wait_for(state="visible")
    assert await player.get_by_role("link").get_attribute("href") == f"/rooms/{room.pk}/"
    assert "Night radio" in await player.inner_text()
    await hears(page, room.host.pk)
    assert await page.evaluate("window.roomSockets") == 1
    assert await page.evaluate("window.roundtable.state.snapshots") == 1


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_listening_goes_on_across_pages_and_the_room_page_comes_back(
    server, signed_in, room, ann, size
):
    host_page = await join(signed_in, server, room, room.host, talk=True)
    listener = await _listening(signed_in, server, room, ann, **size)
    player = listener.get_by_role("region", name="Now listening")
    assert not await player.is_visible()

    # Three pages through the header's links: the hallway, your profile, the notifications.
    await listener.get_by_role("link", name="Hallway").click()
    await _visited(listener, "/")
    await _still_in_the_room(listener, room)
    await listener.click("summary[data-account-menu]")
    await listener.get_by_role("link", name="Your profile").click()
    await _visited(listener, f"/u/{ann.username}/")
    await _still_in_the_room(listener, room)
    await listener.get_by_role("link", name="Notifications").click()
    await _visited(listener, "/notifications/")
    await _still_in_the_room(listener, room)
    # Who is speaking, from the room's own speaking marks.
    await player.get_by_text("Hana Host is speaking").wait_for()
    # A listener has no microphone to mute.
    assert not await player.get_by_role("button", name="Mute").is_visible()

    # The room's title leads back to the room's page, live as it was left: the same socket,
    # no new snapshot, and its controls still work.
    await player.get_by_role("link").click()
    await _visited(listener, f"/rooms/{room.pk}/")
    await player.wait_for(state="hidden")
    await listener.wait_for_selector(f".tile[data-user-id='{room.host.pk}']")
    assert await listener.evaluate("window.roomSockets") == 1
    assert await listener.evaluate("window.roundtable.state.snapshots") == 1
    assert await listener.locator(".room[data-room]").count() == 1
    await hears(listener, room.host.pk)
    await listener.click("[data-action=hand]")
    await host_page.wait_for_selector(f".hand[data-user-id='{ann.pk}']")


async def test_mute_and_leave_from_the_player(server, signed_in, room, ann):
    host_page = await join(signed_in, server, room, room.host, talk=True)
    listener = await _listening(signed_in, server, room, ann)
    # Ann goes on stage, then browses: the player offers her mute.
    await listener.click("[data-action=hand]")
    await host_page.click(f".hand[data-user-id='{ann.pk}'] button")
    await listener.click("[data-action=accept]")
    await listener.wait_for_selector("[data-action=mute][aria-pressed=true]")
    await listener.get_by_role("link", name="Clubs").click()
    await _visited(listener, "/clubs/")
    player = listener.get_by_role("region", name="Now listening")
    mute = player.get_by_role("button", name="Unmute")
    await mute.click()
    await player.locator("[data-player-mute][aria-pressed=false]").wait_for()
    await hears(host_page, ann.pk)
    assert await listener.evaluate("window.roomSockets") == 1

    # Leave: the room is left quietly, everything of it stops, the page stays.
    await player.get_by_role("button", name="Leave the room quietly").click()
    await player.wait_for(state="hidden")
    await host_page.wait_for_selector(f".tile[data-user-id='{ann.pk}']", state="detached")
    assert await _member(room, ann) is None
    state = await audio(listener)
    assert (state["peers"], state["mic"], state["players"]) == ({}, [], 0)
    assert await listener.get_by_role("status").filter(has_text="You left the room.").count() == 1
    await _visited(listener, "/clubs/")


@database_sync_to_async
def _follows(follower, followee) -> bool:
    return Follow.objects.filter(follower=follower, followee=followee).exists()


async def test_a_form_sent_while_listening_keeps_the_room(server, signed_in, room, ann):
    await join(signed_in, server, room, room.host, talk=True)
    listener = await _listening(signed_in, server, room, ann)
    await listener.evaluate(f"Turbo.visit('/u/{room.host.username}/')")
    await _visited(listener, f"/u/{room.host.username}/")

    await listener.get_by_role("button", name="Follow Hana Host").click()
    await listener.get_by_role("button", name="Following Hana Host: press to unfollow").wait_for()
    assert await _follows(ann, room.host)
    await _visited(listener, f"/u/{room.host.username}/")
    await _still_in_the_room(listener, room)

    # A form with errors is shown again with them (an error status, which Turbo renders),
    # still in the same document.
    await listener.evaluate("Turbo.visit('/accounts/profile/')")
    await _visited(listener, "/accounts/profile/")
    await listener.fill("input[name=email]", "not an address")
    async with listener.expect_response(lambda answer: answer.request.method == "POST") as sent:
        await listener.get_by_role("button", name="Save").click()
    assert (await sent.value).status == 400
    await listener.locator(".field--error input[name=email]").wait_for()
    await _visited(listener, "/accounts/profile/")
    await _still_in_the_room(listener, room)


@pytest.fixture
def second_room():
    return room_create(host=UserFactory(username="otto", display_name="Otto"), title="Other talk")


async def test_opening_another_room_leaves_the_first(server, signed_in, room, second_room, ann):
    await join(signed_in, server, room, room.host, talk=True)
    listener = await _listening(signed_in, server, room, ann)
    await listener.evaluate(f"Turbo.visit('/rooms/{second_room.pk}/')")
    # A document of its own: the first room is left, the second joined.
    await listener.wait_for_function(
        "window.sameDocument === undefined && window.roundtable && window.roundtable.state.seq !== null"
    )
    assert await _member(room, ann) is None
    assert await _member(second_room, ann) is not None
    assert await listener.evaluate("window.roomSockets") == 1

"""The bell, live: a followed person starts a room from the browser, the server hands the
fan-out to a real Celery worker, and the follower's open page shows it at once."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from notifications.services import reminders_send
from rooms.services.lifecycle import room_create
from tests.factories import FollowFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


# Counts the notification sockets a page opens.
COUNT_NOTIFICATION_SOCKETS = """
window.notificationSockets = 0;
window.notificationFrames = 0;
const OpenSocket = window.WebSocket;
window.WebSocket = function (url, ...rest) {
  const socket = new OpenSocket(url, ...rest);
  if (String(url).includes("/ws/notifications/")) {
    window.notificationSockets += 1;
    socket.addEventListener("message", () => { window.notificationFrames += 1; });
  }
  return socket;
};
window.WebSocket.prototype = OpenSocket.prototype;
Object.assign(window.WebSocket, { OPEN: 1, CLOSED: 3, CONNECTING: 0, CLOSING: 2 });
"""


@pytest.fixture
def maya_and_theo():
    maya = UserFactory(username="maya", display_name="Maya Okafor")
    theo = UserFactory(username="theo", display_name="Theo Lindqvist")
    FollowFactory(follower=theo, followee=maya)
    return maya, theo


async def test_a_follower_sees_room_started_live_and_joins(
    server, workers, signed_in, maya_and_theo
):
    maya, theo = maya_and_theo
    workers()
    follower = await signed_in(theo)
    await follower.goto(f"{server.url}/")
    await follower.wait_for_selector("[data-unread-count]", state="hidden")

    host = await signed_in(maya)
    await host.goto(f"{server.url}/rooms/new/")
    await host.fill("input[name=title]", "Late night product talk")
    async with host.expect_navigation():
        await host.click("main form [type=submit]")
    await host.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")

    # Without a reload: a toast and the unread badge.
    toast = follower.locator(".toast", has_text="Maya Okafor started")
    await toast.wait_for(timeout=30000)
    assert "Late night product talk" in await toast.inner_text()
    await follower.wait_for_selector("[data-unread-count]:visible")
    assert (await follower.inner_text("[data-unread-count]")).startswith("1")

    # "Join" takes the follower into the room.
    await toast.get_by_role("link", name="Join").click()
    await follower.wait_for_url(host.url)
    await follower.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")
    await follower.wait_for_selector(f".tile[data-user-id='{maya.pk}']")
    await follower.wait_for_selector(f".tile[data-user-id='{theo.pk}']")


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="the test reaches the server's sockets through Redis"
)
async def test_the_bell_comes_back_after_the_server_says_try_again(server, signed_in):
    """4503 is what a socket closes with while Redis or the database is away: the page
    reconnects (4401 and 4403 are the only final closes)."""
    reader = await database_sync_to_async(UserFactory)(username="reader")
    page = await signed_in(reader)
    await page.add_init_script(COUNT_NOTIFICATION_SOCKETS)
    await page.goto(f"{server.url}/")
    # The first frame (the unread count) comes once the server has joined the user's groups.
    await page.wait_for_function(
        "window.notificationSockets === 1 && window.notificationFrames > 0"
    )
    await get_channel_layer().group_send(
        f"user.{reader.pk}", {"type": "user.disconnect", "code": 4503, "reason": "Try again."}
    )
    await page.wait_for_function("window.notificationSockets === 2", timeout=15000)


async def test_starting_soon_pops_up_with_the_time_in_the_readers_zone_and_clock(
    server, workers, signed_in, maya_and_theo
):
    maya, theo = maya_and_theo
    starts = await database_sync_to_async(room_create)(
        host=maya, title="Book club", scheduled_for=timezone.now() + timedelta(minutes=5)
    )
    workers()
    follower = await signed_in(theo)
    # The reader is in Tokyo and reads a 12-hour clock (the server knows neither).
    cdp = await follower.context.new_cdp_session(follower)
    await cdp.send("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
    await cdp.send("Emulation.setLocaleOverride", {"locale": "en-US"})
    await follower.add_init_script(COUNT_NOTIFICATION_SOCKETS)
    await follower.goto(f"{server.url}/")
    # The first frame (the unread count) comes once the server has joined the user's groups.
    await follower.wait_for_function("window.notificationFrames > 0")

    # The minute task's work, handed to the real worker as beat would.
    celery_app.conf.task_always_eager = False
    await database_sync_to_async(reminders_send)()
    toast = follower.locator(".toast", has_text="“Book club” starts soon")
    await toast.wait_for(timeout=30000)
    tokyo = starts.scheduled_for.astimezone(ZoneInfo("Asia/Tokyo"))
    shown = await toast.locator("time").inner_text()
    hour = tokyo.hour % 12 or 12
    assert re.search(rf"\b{hour}:{tokyo:%M}\s?{tokyo:%p}$", shown), shown
    assert await toast.locator("time").get_attribute("datetime") == (
        starts.scheduled_for.isoformat().replace("+00:00", "Z")
    )
    await toast.get_by_role("link", name="Open").click()
    await follower.wait_for_url(f"{server.url}/rooms/{starts.pk}/")


async def test_an_empty_inbox_shows_a_notification_as_it_arrives(
    server, workers, signed_in, maya_and_theo
):
    maya, theo = maya_and_theo
    workers()
    follower = await signed_in(theo)
    await follower.add_init_script(COUNT_NOTIFICATION_SOCKETS)
    await follower.goto(f"{server.url}/notifications/")
    await follower.wait_for_selector("[data-inbox-empty]")
    await follower.wait_for_function("window.notificationFrames > 0")

    celery_app.conf.task_always_eager = False
    await database_sync_to_async(room_create)(host=maya, title="Late night jazz")
    item = follower.locator("[data-inbox] .inbox__item")
    await item.wait_for(timeout=30000)
    assert (
        await item.locator(".inbox__text").inner_text() == "Maya Okafor started “Late night jazz”"
    )
    assert await follower.locator("[data-inbox-empty]").count() == 0

"""A staff member moderates in a real browser against a real server process: finds the
reported person from the admin index, reads the report, suspends them and watches their
socket close; ends the room; reads the log of it all."""

import pytest
from channels.db import database_sync_to_async

from moderation.models import ModerationLog
from moderation.services.reports import report_create
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import PASSWORD, UserFactory, make_moderator
from tests.support.helpers import signs_in_on_the_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

# A socket opened from a plain page (not the room page, whose own client would replace it),
# recording every frame and the close code.
OPEN_SOCKET = """(roomId) => new Promise((resolve) => {
  window.roomFrames = [];
  window.roomClosed = null;
  const socket = new WebSocket(`ws://${location.host}/ws/rooms/${roomId}/`);
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    window.roomFrames.push(frame);
    if (frame.type === "room.snapshot") resolve(frame);
  };
  socket.onclose = (event) => { window.roomClosed = event.code; resolve(null); };
})"""


@pytest.fixture
def scene():
    staff = make_moderator(username="staffer", display_name="Sam Staff")
    troll = UserFactory(username="troll", display_name="Bridge Dweller")
    for person in (staff, troll):
        signs_in_on_the_server(person)
    host = UserFactory(username="roomhost", display_name="Room Host")
    room = room_create(host=host, title="Late-night talk")
    report_create(
        reporter=UserFactory(username="witness"),
        user=troll,
        reason="harassment",
        text="Kept shouting slurs at the speakers.",
    )
    return {"staff": staff, "troll": troll, "room": room}


async def _sign_in(page, base, path, username):
    await page.goto(f"{base}{path}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.click("[type=submit]")


@database_sync_to_async
def _in_room(room, user) -> bool:
    return RoomMember.objects.filter(room=room, user=user).exists()


@database_sync_to_async
def _status(room) -> str:
    return Room.objects.get(pk=room.pk).status


@database_sync_to_async
def _log_actors() -> set[str]:
    return set(ModerationLog.objects.values_list("actor__username", flat=True))


async def test_staff_suspend_a_reported_person_and_end_the_room(scene, server, browser, tmp_path):
    base, room, troll = server.url, scene["room"], scene["troll"]

    # The reported person is in the live room.
    theirs = await (await browser.new_context(bypass_csp=True)).new_page()
    await _sign_in(theirs, base, "/accounts/login/", "troll")
    await theirs.goto(f"{base}/u/troll/")
    snapshot = await theirs.evaluate(OPEN_SOCKET, str(room.pk))
    assert snapshot is not None, await theirs.evaluate("window.roomFrames")
    assert snapshot["me"]["user"]["username"] == "troll"

    # Staff find them from the admin index, through the report.
    page = await (await browser.new_context(bypass_csp=True)).new_page()
    await _sign_in(page, base, "/admin/login/", "staffer")
    assert await page.inner_text("#open-report-count") == "1"
    await page.screenshot(path=tmp_path / "1-index.png", full_page=True)
    await page.click("#open-report-count")
    await page.click("#result_list tbody tr th a")
    await page.wait_for_selector("text=Kept shouting slurs at the speakers.")
    assert "@troll (Bridge Dweller)" in await page.content()
    await page.screenshot(path=tmp_path / "2-report.png", full_page=True)

    # Suspend them from the report.
    await page.click("button:has-text('Suspend the reported person')")
    await page.select_option("select[name=duration]", "7d")
    await page.fill("textarea[name=reason]", "Harassing speakers.")
    await page.screenshot(path=tmp_path / "3-suspend-form.png", full_page=True)
    await page.click("input[name=apply]")
    await page.wait_for_selector("text=Suspended 1 person; their connections are closing.")
    await page.screenshot(path=tmp_path / "4-suspended.png", full_page=True)

    # They drop out of the room, told why.
    await theirs.wait_for_function("window.roomClosed !== null")
    assert await theirs.evaluate("window.roomClosed") == 4403
    last = await theirs.evaluate("window.roomFrames[window.roomFrames.length - 1]")
    assert (last["type"], last["code"]) == ("error", "disconnected")
    assert "Harassing speakers." in last["message"]
    assert not await _in_room(room, troll)

    # Their session is over; signing in again says why.
    await _sign_in(theirs, base, "/accounts/login/", "troll")
    await theirs.wait_for_selector("text=Your account is suspended until")
    await theirs.screenshot(path=tmp_path / "5-sign-in-refused.png", full_page=True)

    # End the abusive room from its admin page.
    await page.goto(f"{base}/admin/rooms/room/{room.pk}/change/")
    await page.click("button:has-text('End room')")
    await page.fill("textarea[name=note]", "Abusive room.")
    await page.click("input[name=apply]")
    await page.wait_for_selector("text=Ended 1 room; everyone inside was told and disconnected.")
    assert await _status(room) == Room.Status.ENDED

    # The log tells the story.
    await page.goto(f"{base}/admin/moderation/moderationlog/")
    await page.screenshot(path=tmp_path / "6-log.png", full_page=True)
    text = await page.inner_text("#result_list")
    for label in ("Suspended an account", "Resolved a report", "Ended the room (staff)"):
        assert label in text
    assert await _log_actors() == {"staffer"}

"""Recording on the room page, in Chromium: the REC badge, the invitation that says the
room records (accepting it is agreeing), the consent asked of someone on stage, and the
moderators' switch on a site without a media server.

Without a media server no room can start recording, so the recording rooms here are made so
in the database: live on the media server (`media="sfu"`, as the database requires of a
recording room) with `recording` set, and the host's consent as `room_create` records it.
The page shows all of this without Janus; only its audio fails to connect."""

import pytest
from channels.db import database_sync_to_async

from rooms.models import RecordConsent, Room, RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, follower_of
from tests.support.pages import announced, eventually, join
from tests.support.servers import ServerProcess

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

REC = "This room is being recorded"


@pytest.fixture(scope="module")
def server(django_db_setup):
    """One daphne process for the module (no media server: JANUS_URL is unset)."""
    process = ServerProcess(JANUS_URL="").start()
    yield process
    process.stop()


@database_sync_to_async
def _recording_room(*, co_hosts=()):
    """A live room that records, with its host's consent; `co_hosts` are followers of the
    host, who come on stage as moderators without having agreed."""
    host = UserFactory(username="hana", display_name="Hana Host")
    people = [follower_of(host, username=name, display_name=title) for name, title in co_hosts]
    room = room_create(host=host, title="Recorded radio", co_hosts=people)
    Room.objects.filter(pk=room.pk).update(media=Room.Media.SFU, recording=True)
    RecordConsent.objects.create(room=room, user=host)
    return room, host, people


@database_sync_to_async
def _member(room, user):
    return RoomMember.objects.filter(room=room, user=user).first()


@database_sync_to_async
def _consented(room, user):
    return RecordConsent.objects.filter(room=room, user=user).exists()


@database_sync_to_async
def _recording(room):
    return Room.objects.get(pk=room.pk).recording


async def test_the_invitee_is_told_the_room_records_and_comes_on_stage_agreeing(server, signed_in):
    room, host, _ = await _recording_room()
    ann = await database_sync_to_async(UserFactory)(username="ann", display_name="Ann Listener")
    host_page = await join(signed_in, server, room, host)
    listener = await join(signed_in, server, room, ann)
    for page in (host_page, listener):
        await page.get_by_role("img", name=REC).wait_for()
    # The host agreed when the room was made: nothing to ask them.
    assert not await host_page.evaluate("document.querySelector('[data-consent-dialog]').open")
    # Only moderators may start or stop the recording.
    assert await host_page.locator("[data-action=recording]").text_content() == "Stop recording…"
    assert await listener.locator("[data-action=recording]").is_hidden()

    await listener.click("[data-action=hand]")
    await host_page.get_by_role("button", name="Invite Ann Listener to speak").click()
    invite = listener.get_by_role("alertdialog")
    await invite.wait_for()
    assert await invite.locator("[data-invite-recording]").inner_text() == (
        "This room is recorded. If you come on stage, your voice will be in the replay."
    )
    await invite.get_by_role("button", name="Agree and join the stage").click()
    await announced(listener, "You are on stage and muted.")

    member = await _member(room, ann)
    assert member.role == RoomMember.Role.SPEAKER
    assert await _consented(room, ann)
    # She agreed with the invitation: the page does not ask again.
    assert not await listener.evaluate("document.querySelector('[data-consent-dialog]').open")

    # Browsing on, she still sees that the room records, in the docked player.
    await listener.get_by_role("link", name="Hallway").click()
    player = listener.get_by_role("region", name="Now listening")
    await player.wait_for(state="visible")
    await player.get_by_role("img", name=REC).wait_for()


async def test_a_co_host_on_stage_is_asked_and_unmutes_once_they_agree(server, signed_in):
    room, _, (cory,) = await _recording_room(co_hosts=[("cory", "Cory Cohost")])
    page = await join(signed_in, server, room, cory)
    dialog = page.get_by_role("dialog", name="This room is recorded")
    await dialog.wait_for()
    text = await dialog.inner_text()
    assert "replay that people can play for 30 days" in text
    # A moderator who declines keeps their place, muted.
    await dialog.get_by_role("button", name="Stay muted").wait_for()

    # Not now: the dialog goes, and comes back when they try to unmute.
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    assert not await _consented(room, cory)
    await page.click("[data-action=mute]")
    await dialog.get_by_role("button", name="Agree and stay on stage").click()

    # Agreeing while unmuting unmutes.
    await page.wait_for_selector("[data-action=mute][aria-pressed=false]")
    assert await _consented(room, cory)
    await eventually(
        lambda: _member_unmuted(room, cory), "the co-host unmuted in the database", deadline=10
    )


async def _member_unmuted(room, user):
    member = await _member(room, user)
    return member is not None and not member.muted


async def test_without_a_media_server_the_moderator_is_told_recording_cannot_start(
    server, signed_in
):
    host = await database_sync_to_async(UserFactory)(username="hana", display_name="Hana Host")
    room = await database_sync_to_async(room_create)(host=host, title="Plain radio")
    page = await join(signed_in, server, room, host)
    await page.wait_for_selector(f".tile[data-user-id='{host.pk}']")
    # This room does not record: no badge.
    assert await page.locator("[data-recording-badge]").is_hidden()

    await page.get_by_label("More room actions").click()
    await page.get_by_role("button", name="Start recording…").click()
    dialog = page.get_by_role("dialog", name="Record this room?")
    assert "for 30 days" in await dialog.inner_text()
    await dialog.get_by_role("button", name="Start recording").click()

    status = page.locator("[data-status]")
    await status.filter(has_text="Recording needs the media server").wait_for()
    assert await status.get_attribute("class") == "room-status room-status--error"
    assert await page.locator("[data-recording-badge]").is_hidden()
    assert not await _recording(room)

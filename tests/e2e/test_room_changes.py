"""A host moves a scheduled room from its edit page; someone who asked to be reminded sees
the new time at once, through a real Celery worker and their notification socket."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms.models import Room, RoomRsvp
from rooms.services.lifecycle import room_create
from tests.factories import FollowFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@database_sync_to_async
def _scheduled_room_with_a_reminder():
    maya = UserFactory(username="maya", display_name="Maya Okafor")
    theo = UserFactory(username="theo", display_name="Theo Lindqvist")
    room = room_create(
        host=maya, title="Owls at dusk", scheduled_for=timezone.now() + timedelta(days=1)
    )
    RoomRsvp.objects.create(room=room, user=theo)
    return maya, theo, room


@database_sync_to_async
def _reloaded(room):
    return Room.objects.get(pk=room.pk)


async def test_the_host_moves_the_room_and_the_reminded_person_sees_the_new_time(
    server, workers, signed_in
):
    maya, theo, room = await _scheduled_room_with_a_reminder()
    workers()
    waiting = await signed_in(theo)
    await waiting.goto(f"{server.url}/notifications/")
    await waiting.wait_for_selector("[data-unread-count]", state="hidden")

    host = await signed_in(maya)
    await host.goto(f"{server.url}{room.get_absolute_url()}")
    await host.get_by_role("link", name="Edit").click()
    await host.wait_for_url(f"**/rooms/{room.pk}/edit/")
    new_time = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    await host.fill("input[name=scheduled_for]", new_time)
    # Turbo Drive sends the form and shows the room's page it redirects to.
    await host.get_by_role("button", name="Save changes").click()
    await host.locator(".flash__item", has_text="Your changes are saved.").wait_for()

    toast = waiting.locator(".toast", has_text="to a new time")
    await toast.wait_for(timeout=30000)
    assert "Maya Okafor moved “Owls at dusk” to a new time" in await toast.inner_text()
    # The inbox lists it with the room's new time.
    await waiting.reload()
    item = waiting.locator("[data-inbox] [data-kind=room_rescheduled]")
    await item.wait_for()
    assert "to a new time" in await item.inner_text()
    moved = await _reloaded(room)
    assert moved.calendar_sequence == 1
    assert moved.scheduled_for > room.scheduled_for + timedelta(hours=23)


@database_sync_to_async
def _host_with_followers():
    maya = UserFactory(username="maya", display_name="Maya Okafor")
    for name in ("theo", "priya"):
        FollowFactory(follower=UserFactory(username=name), followee=maya)
    return maya


@database_sync_to_async
def _invitees_of(title):
    return sorted(Room.objects.get(title=title).invitees.values_list("username", flat=True))


async def test_the_people_picker_adds_and_removes_invitees_by_keyboard(server, signed_in):
    maya = await _host_with_followers()
    page = await signed_in(maya, width=390, height=844)
    await page.goto(f"{server.url}/rooms/new/")
    await page.fill("input[name=title]", "Picked")
    adder = page.get_by_label("Invite people")
    await adder.fill("theo")
    await adder.press("Enter")
    await adder.fill("@priya")
    await adder.press("Enter")
    await page.get_by_role("button", name="Remove @theo").click()
    await adder.fill("theo")
    await adder.press("Enter")
    assert await page.input_value("input[name=invitees]") == "priya, theo"
    async with page.expect_navigation():
        await page.get_by_role("button", name="Create room").click()
    assert await _invitees_of("Picked") == ["priya", "theo"]

"""A scheduled room that moves or is cancelled: who is told, the reminder that follows the
new time (or goes nowhere), and the calendar file."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from notifications.models import Notification, Preferences
from notifications.selectors import notification_text
from notifications.services import reminders_send
from rooms.models import RoomRsvp
from rooms.services import lifecycle
from tests.factories import FollowFactory, UserFactory

Kind = Notification.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(host):
    """A scheduled room in two hours with one follower of the host, one person who asked to
    be reminded and one invitee (who follows the host, as invitees must)."""
    follower = FollowFactory(followee=host).follower
    asked = UserFactory(username="asked")
    invitee = FollowFactory(followee=host, follower__username="invitee").follower
    room = lifecycle.room_create(
        host=host,
        title="Owls",
        scheduled_for=timezone.now() + timedelta(hours=2),
        invitees=[invitee],
    )
    RoomRsvp.objects.create(room=room, user=asked)
    return room, follower, asked, invitee


def _told(kind):
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_a_new_time_is_told_to_those_waiting(host, waiting, committed):
    room, _, asked, _ = waiting
    with committed():
        lifecycle.room_update(
            actor=host, room_id=room.pk, scheduled_for=room.scheduled_for + timedelta(hours=1)
        )
    assert _told(Kind.ROOM_RESCHEDULED) == {"asked", "invitee"}
    notification = Notification.objects.get(recipient=asked, kind=Kind.ROOM_RESCHEDULED)
    assert notification_text(notification) == "Host moved “Owls” to a new time"
    assert notification.room == room


def test_a_title_change_tells_nobody(host, waiting, committed):
    room, *_ = waiting
    with committed():
        lifecycle.room_update(actor=host, room_id=room.pk, title="Owls at night")
    assert not Notification.objects.filter(kind=Kind.ROOM_RESCHEDULED).exists()


def test_a_second_move_tells_them_again(host, waiting, committed):
    room, _, asked, _ = waiting
    for hours in (3, 4):
        with committed():
            lifecycle.room_update(
                actor=host, room_id=room.pk, scheduled_for=timezone.now() + timedelta(hours=hours)
            )
        Notification.objects.filter(recipient=asked).update(read_at=timezone.now())
    notifications = Notification.objects.filter(recipient=asked, kind=Kind.ROOM_RESCHEDULED)
    assert notifications.count() == 1
    assert notifications.get().read_at is not None
    with committed():
        lifecycle.room_update(
            actor=host, room_id=room.pk, scheduled_for=timezone.now() + timedelta(hours=5)
        )
    assert notifications.get().read_at is None


def test_turning_the_kind_off_is_respected(host, waiting, committed):
    room, _, asked, _ = waiting
    Preferences.objects.create(user=asked, room_rescheduled=False)
    with committed():
        lifecycle.room_update(
            actor=host, room_id=room.pk, scheduled_for=timezone.now() + timedelta(hours=3)
        )
    assert _told(Kind.ROOM_RESCHEDULED) == {"invitee"}


def test_the_reminder_fires_at_the_new_time_not_the_old(host, waiting, committed):
    room, follower, asked, invitee = waiting
    old = room.scheduled_for
    new = old + timedelta(hours=5)
    with committed():
        lifecycle.room_update(actor=host, room_id=room.pk, scheduled_for=new)
    with committed():
        assert reminders_send(now=old - timedelta(minutes=5))["reminded"] == 0
    assert not _told(Kind.ROOM_REMINDER)
    with committed():
        assert reminders_send(now=new - timedelta(minutes=5))["reminded"] == 1
    # The invitee follows the host (invitees must): followers are reminded too.
    assert _told(Kind.ROOM_REMINDER) == {asked.username, follower.username, invitee.username}


def test_a_room_moved_after_its_reminder_is_reminded_again(host, committed):
    asked = UserFactory(username="asked")
    room = lifecycle.room_create(
        host=host, title="Soon", scheduled_for=timezone.now() + timedelta(minutes=5)
    )
    RoomRsvp.objects.create(room=room, user=asked)
    with committed():
        assert reminders_send()["reminded"] == 1
    new = timezone.now() + timedelta(hours=3)
    with committed():
        lifecycle.room_update(actor=host, room_id=room.pk, scheduled_for=new)
    assert not _told(Kind.ROOM_REMINDER)
    with committed():
        assert reminders_send()["reminded"] == 0
        assert reminders_send(now=new - timedelta(minutes=5))["reminded"] == 1
    assert _told(Kind.ROOM_REMINDER) == {"asked"}


def test_a_cancelled_room_is_told_and_never_reminded(host, waiting, committed):
    room, _, asked, _ = waiting
    with committed():
        lifecycle.room_cancel(actor=host, room_id=room.pk)
    assert _told(Kind.ROOM_CANCELLED) == {"asked", "invitee"}
    text = notification_text(Notification.objects.get(recipient=asked, kind=Kind.ROOM_CANCELLED))
    assert text == "Host cancelled “Owls”"
    with committed():
        assert reminders_send(now=room.scheduled_for - timedelta(minutes=5))["reminded"] == 0
    assert not _told(Kind.ROOM_REMINDER)


def test_whoever_was_told_of_the_room_is_told_it_is_cancelled(host, waiting, committed):
    """The host's follower was told it was scheduled; a club's follower would be too."""
    room, follower, _, _ = waiting
    Notification.objects.create(
        recipient=follower,
        kind=Kind.ROOM_SCHEDULED,
        subject=f"room:{room.pk}",
        actor=host,
        room=room,
    )
    with committed():
        lifecycle.room_cancel(actor=host, room_id=room.pk)
    assert _told(Kind.ROOM_CANCELLED) == {"asked", "invitee", follower.username}


def _event(client, room):
    response = client.get(f"/rooms/{room.pk}/calendar.ics")
    assert response.status_code == 200
    return Calendar.from_ical(response.content).walk("VEVENT")[0]


def test_the_calendar_file_carries_the_sequence_and_the_cancellation(host, waiting, client):
    room, _, asked, _ = waiting
    client.force_login(asked)
    first = _event(client, room)
    assert (first["SEQUENCE"], str(first["STATUS"])) == (0, "CONFIRMED")
    new = timezone.now() + timedelta(hours=6)
    lifecycle.room_update(actor=host, room_id=room.pk, scheduled_for=new)
    moved = _event(client, room)
    assert moved["SEQUENCE"] == 1
    assert moved["UID"] == first["UID"]
    assert moved.decoded("DTSTART") == new.replace(microsecond=0)
    lifecycle.room_update(actor=host, room_id=room.pk, title="Renamed")
    assert _event(client, room)["SEQUENCE"] == 2
    lifecycle.room_cancel(actor=host, room_id=room.pk)
    cancelled = _event(client, room)
    assert (cancelled["SEQUENCE"], str(cancelled["STATUS"])) == (3, "CANCELLED")

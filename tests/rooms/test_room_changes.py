"""Changing and cancelling a scheduled room: who may, what changes, and the calendar
sequence."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from moderation.models import ModerationLog
from rooms.models import Room, Topic
from rooms.services import lifecycle
from tests.factories import BlockFactory, UserFactory, follower_of

pytestmark = pytest.mark.django_db


def _scheduled(host, **fields):
    fields.setdefault("scheduled_for", timezone.now() + timedelta(days=1))
    return lifecycle.room_create(host=host, title="Later", **fields)


@pytest.fixture
def co_host(host):
    return follower_of(host, username="cohost")


def test_the_host_and_a_co_host_change_a_scheduled_room(host, co_host):
    room = _scheduled(host, co_hosts=[co_host])
    new_time = timezone.now() + timedelta(days=2)
    invitee = follower_of(host)
    lifecycle.room_update(actor=host, room_id=room.pk, title=" New title ", scheduled_for=new_time)
    lifecycle.room_update(
        actor=co_host, room_id=room.pk, description="About owls", invitees=[invitee]
    )
    room.refresh_from_db()
    assert (room.title, room.description, room.scheduled_for) == (
        "New title",
        "About owls",
        new_time,
    )
    assert list(room.invitees.all()) == [invitee]
    assert room.calendar_sequence == 2


@pytest.mark.parametrize("who", ["stranger", "invitee", "staff"])
def test_nobody_else_changes_or_cancels_it(host, who):
    person = follower_of(host, is_staff=who == "staff")
    room = _scheduled(host, invitees=[person] if who == "invitee" else [])
    with pytest.raises(ApplicationError) as error:
        lifecycle.room_update(actor=person, room_id=room.pk, title="Mine now")
    assert error.value.status == 403
    with pytest.raises(ApplicationError) as error:
        lifecycle.room_cancel(actor=person, room_id=room.pk)
    assert error.value.status == 403
    room.refresh_from_db()
    assert (room.title, room.status, room.calendar_sequence) == ("Later", "scheduled", 0)


def test_nothing_new_changes_nothing(host):
    room = _scheduled(host)
    lifecycle.room_update(
        actor=host, room_id=room.pk, title="Later", scheduled_for=room.scheduled_for, invitees=[]
    )
    room.refresh_from_db()
    assert room.calendar_sequence == 0


@pytest.mark.parametrize("delta", [timedelta(minutes=-5), timedelta(days=400)])
def test_a_new_time_obeys_the_same_limits(host, delta):
    room = _scheduled(host)
    with pytest.raises(ApplicationError) as error:
        lifecycle.room_update(actor=host, room_id=room.pk, scheduled_for=timezone.now() + delta)
    assert error.value.status == 422
    room.refresh_from_db()
    assert room.calendar_sequence == 0


def test_co_hosts_and_invitees_follow_the_rules_of_creation(host):
    room = _scheduled(host)
    stranger = UserFactory(username="stranger")
    with pytest.raises(ApplicationError, match="does not follow you"):
        lifecycle.room_update(actor=host, room_id=room.pk, co_hosts=[stranger])
    blocked = UserFactory()
    BlockFactory(blocker=host, blocked=blocked)
    with pytest.raises(ApplicationError, match="cannot invite"):
        lifecycle.room_update(actor=host, room_id=room.pk, invitees=[blocked])


def test_live_and_ended_rooms_are_not_changed(host):
    live = lifecycle.room_create(host=host, title="Now")
    with pytest.raises(ApplicationError) as error:
        lifecycle.room_update(actor=host, room_id=live.pk, title="Other")
    assert error.value.status == 409
    with pytest.raises(ApplicationError) as error:
        lifecycle.room_cancel(actor=host, room_id=live.pk)
    assert error.value.status == 409


def test_cancelling_ends_the_room_as_called_off(host, co_host):
    room = _scheduled(host, co_hosts=[co_host])
    lifecycle.room_cancel(actor=co_host, room_id=room.pk)
    room.refresh_from_db()
    assert room.status == Room.Status.ENDED
    assert room.is_cancelled
    assert room.calendar_sequence == 1
    assert ModerationLog.objects.filter(room=room).exists()
    with pytest.raises(ApplicationError) as error:
        lifecycle.room_cancel(actor=host, room_id=room.pk)
    assert error.value.status == 409


def test_a_room_that_ran_is_not_cancelled(host):
    room = _scheduled(host)
    lifecycle.room_start(actor=host, room_id=room.pk)
    lifecycle.room_end(actor=host, room_id=room.pk)
    room.refresh_from_db()
    assert not room.is_cancelled
    assert room.calendar_sequence == 0


def test_topics_and_language_change_like_the_rest(host):
    music, books, art, food = (
        Topic.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
        for slug in ("music", "books", "art", "food")
    )
    room = _scheduled(host, topics=[music], language="en")
    lifecycle.room_update(actor=host, room_id=room.pk, topics=[books, art], language="de")
    room.refresh_from_db()
    assert sorted(t.slug for t in room.topics.all()) == ["art", "books"]
    assert (room.language, room.calendar_sequence) == ("de", 1)
    lifecycle.room_update(actor=host, room_id=room.pk, topics=[art, books], language="de")
    assert Room.objects.get(pk=room.pk).calendar_sequence == 1  # the same again changes nothing
    with pytest.raises(ApplicationError, match="at most 3 topics"):
        lifecycle.room_update(actor=host, room_id=room.pk, topics=[music, books, art, food])
    assert sorted(t.slug for t in Room.objects.get(pk=room.pk).topics.all()) == ["art", "books"]

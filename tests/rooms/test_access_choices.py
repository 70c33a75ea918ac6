"""Where the earlier copies of the access rule disagreed: what each person is now told
and shown (rooms.access explains each choice)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from notifications.models import Notification
from notifications.selectors import room_audience_ids
from rooms.access import room_entry_refusal, room_moderator_ids
from rooms.models import Room, RoomBan, RoomMember
from rooms.selectors import hallway, room_get, rooms_visible_to
from rooms.services.lifecycle import room_create
from rooms.services.stage import room_invite
from tests.factories import BlockFactory, FollowFactory, UserFactory, follower_of

pytestmark = pytest.mark.django_db
Visibility = Room.Visibility


def _refused(person, room) -> str:
    refusal = room_entry_refusal(user=person, room=room)
    assert refusal is not None
    assert refusal.status == 403
    return refusal.message


def test_blocking_a_co_host_hides_the_room_and_keeps_you_out(host, user):
    co_host = follower_of(host)
    room = room_create(host=host, title="Pair", co_hosts=[co_host])
    BlockFactory(blocker=user, blocked=co_host)
    assert _refused(user, room) == "You cannot join this room."
    assert room not in hallway(viewer=user)["live"]
    with pytest.raises(ApplicationError) as raised:
        room_get(room_id=room.pk, viewer=user)
    assert raised.value.status == 404


def test_blocking_the_host_keeps_you_out_as_it_hides_the_room(host, user):
    room = room_create(host=host, title="Open")
    BlockFactory(blocker=user, blocked=host)
    assert _refused(user, room) == "You cannot join this room."


def test_a_co_host_enters_whatever_blocks_they_share_with_the_host(host):
    co_host = follower_of(host)
    room = room_create(host=host, title="Pair", co_hosts=[co_host])
    BlockFactory(blocker=host, blocked=co_host)
    assert room_entry_refusal(user=co_host, room=room) is None
    assert room in hallway(viewer=co_host)["live"]


def test_someone_removed_no_longer_finds_the_room(host, user):
    room = room_create(host=host, title="Open")
    RoomBan.objects.create(room=room, user=user, banned_by=host)
    assert _refused(user, room) == "A moderator removed you from this room."
    assert room not in hallway(viewer=user)["live"]


def test_a_suspended_session_sees_and_enters_nothing(host, user):
    room = room_create(host=host, title="Open")
    User.objects.filter(pk=user.pk).update(suspended_until=timezone.now() + timedelta(days=1))
    user.refresh_from_db()
    assert _refused(user, room).startswith("Your account is suspended until ")
    assert not rooms_visible_to(user).exists()


def test_people_a_member_made_moderator_follows_hear_of_a_social_room(host, user):
    room = Room.objects.create(
        host=host,
        title="Social",
        visibility=Visibility.SOCIAL,
        status=Room.Status.LIVE,
        started_at=timezone.now(),
        speaker_cap=8,
    )
    moderator = UserFactory()
    RoomMember.objects.create(
        room=room, user=moderator, role=RoomMember.Role.MODERATOR, last_seen=timezone.now()
    )
    FollowFactory(follower=user, followee=host)
    assert room_audience_ids(room=room, kind=Notification.Kind.ROOM_STARTED) == []
    FollowFactory(follower=moderator, followee=user)
    assert room_audience_ids(room=room, kind=Notification.Kind.ROOM_STARTED) == [user.pk]


def test_inviting_someone_who_blocked_a_co_host_is_refused(host, user):
    co_host = follower_of(host)
    room = room_create(host=host, title="Closed", visibility=Visibility.CLOSED, co_hosts=[co_host])
    BlockFactory(blocker=user, blocked=co_host)
    with pytest.raises(ApplicationError) as raised:
        room_invite(actor=host, room_id=room.pk, user=user)
    assert (raised.value.status, raised.value.message) == (
        403,
        f"{user.username} cannot join this room.",
    )
    assert not room.invitees.exists()


def test_one_query_answers_who_moderates_a_room(host, django_assert_num_queries):
    co_host = follower_of(host)
    room = room_create(host=host, title="Pair", co_hosts=[co_host])
    made = UserFactory()
    RoomMember.objects.create(
        room=room, user=made, role=RoomMember.Role.MODERATOR, last_seen=timezone.now()
    )
    RoomMember.objects.create(room=room, user=UserFactory(), last_seen=timezone.now())
    with django_assert_num_queries(1):
        assert room_moderator_ids(room) == {host.pk, co_host.pk, made.pk}

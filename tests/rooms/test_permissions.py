from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from follows.models import Club, ClubMembership
from rooms.models import Room, RoomBan
from rooms.permissions import room_access_to_enter
from rooms.services.lifecycle import room_create, room_end
from tests.factories import BlockFactory, ClubFactory, FollowFactory, MembershipFactory, UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db


def _enters(user, room) -> bool:
    try:
        room_access_to_enter(user=user, room=room)
    except ApplicationError as error:
        if error.status not in (403, 404):
            raise
        return False
    return True


def test_open_rooms_take_anyone(host, user):
    assert _enters(user, room_create(host=host, title="Open"))


def test_social_rooms_take_people_the_host_follows(host, user):
    room = room_create(host=host, title="Social", visibility=Room.Visibility.SOCIAL)
    assert not _enters(user, room)
    FollowFactory(follower=host, followee=user)
    assert _enters(user, room)


def test_social_rooms_take_people_any_moderator_follows(host, user):
    room = room_create(host=host, title="Social", visibility=Room.Visibility.SOCIAL)
    mod = UserFactory()
    member(room, mod, role="moderator")
    FollowFactory(follower=mod, followee=user)
    assert _enters(user, room)


def test_social_rooms_do_not_take_people_who_follow_the_host(host, user):
    room = room_create(host=host, title="Social", visibility=Room.Visibility.SOCIAL)
    FollowFactory(follower=user, followee=host)
    assert not _enters(user, room)


def test_closed_rooms_take_invitees(host, user):
    room = room_create(host=host, title="Closed", visibility=Room.Visibility.CLOSED)
    assert not _enters(user, room)
    room.invitees.add(user)
    assert _enters(user, room)


def test_closed_club_rooms_take_active_members_only(host, user):
    club = ClubFactory(join_policy=Club.JoinPolicy.APPROVAL)
    MembershipFactory(club=club, user=host, role=ClubMembership.Role.LEADER)
    room = room_create(host=host, title="Club", club=club, visibility=Room.Visibility.CLOSED)
    pending = MembershipFactory(club=club, user=user, status=ClubMembership.Status.PENDING)
    assert not _enters(user, room)
    pending.status = ClubMembership.Status.ACTIVE
    pending.save()
    assert _enters(user, room)


def test_co_hosts_always_enter(host, user):
    FollowFactory(follower=user, followee=host)
    room = room_create(
        host=host, title="Closed", visibility=Room.Visibility.CLOSED, co_hosts=[user]
    )
    assert _enters(user, room)


def test_removed_people_cannot_come_back(host, user):
    room = room_create(host=host, title="Open")
    RoomBan.objects.create(room=room, user=user, banned_by=host)
    assert not _enters(user, room)


def test_people_a_moderator_blocked_cannot_enter(host, user):
    room = room_create(host=host, title="Open")
    BlockFactory(blocker=host, blocked=user)
    assert not _enters(user, room)


def test_people_blocked_by_a_current_moderator_cannot_enter(host, user):
    room = room_create(host=host, title="Open")
    mod = UserFactory()
    member(room, mod, role="moderator")
    BlockFactory(blocker=mod, blocked=user)
    assert not _enters(user, room)


def test_being_blocked_by_a_listener_does_not_keep_you_out(host, user):
    room = room_create(host=host, title="Open")
    listener = UserFactory()
    member(room, listener)
    BlockFactory(blocker=listener, blocked=user)
    assert _enters(user, room)


def test_ended_and_scheduled_rooms_are_not_found(host, user):
    later = room_create(host=host, title="Later", scheduled_for=timezone.now() + timedelta(hours=1))
    with pytest.raises(ApplicationError) as raised:
        room_access_to_enter(user=user, room=later)
    assert raised.value.status == 404
    over = room_create(host=host, title="Over")
    room_end(actor=host, room_id=over.pk)
    over.refresh_from_db()
    with pytest.raises(ApplicationError) as raised:
        room_access_to_enter(user=user, room=over)
    assert raised.value.status == 404

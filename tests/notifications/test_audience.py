"""Who hears about a room: each rule that leaves someone out has its own test."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from follows.models import ClubBan, ClubMembership
from notifications.models import ClubMute, Notification, PersonMute, Preferences
from notifications.selectors import room_audience_ids
from rooms.models import Room, RoomBan, RoomRsvp
from rooms.services.lifecycle import room_create
from tests.factories import (
    BlockFactory,
    ClubFactory,
    ClubFollowFactory,
    FollowFactory,
    MembershipFactory,
    UserFactory,
)
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def _fan(of):
    return FollowFactory(followee=of).follower


def _room(host, **fields) -> Room:
    """A room row without going through the services (no fan-out of its own)."""
    fields.setdefault("status", Room.Status.LIVE)
    if fields["status"] == Room.Status.LIVE:
        fields.setdefault("started_at", "2030-01-01T00:00:00Z")
    return Room.objects.create(host=host, title="Talk", speaker_cap=8, **fields)


def _audience(room, kind=Kind.ROOM_STARTED) -> set[int]:
    return set(room_audience_ids(room=room, kind=kind))


def test_followers_of_the_host_hear_and_nobody_else(host):
    fans = {_fan(host).pk, _fan(host).pk}
    stranger = UserFactory()
    room = _room(host)
    assert _audience(room) == fans
    assert stranger.pk not in _audience(room)
    assert host.pk not in _audience(room)


def test_followers_of_co_hosts_hear(host):
    co_host = UserFactory()
    fan = _fan(co_host)
    room = _room(host)
    room.co_hosts.add(co_host)
    assert _audience(room) == {fan.pk}


def test_members_and_followers_of_the_club_hear_but_not_pending_members(host):
    club = ClubFactory()
    MembershipFactory(club=club, user=host, role=ClubMembership.Role.ADMIN)
    member_ = MembershipFactory(club=club).user
    follower = ClubFollowFactory(club=club).user
    MembershipFactory(club=club, status=ClubMembership.Status.PENDING)
    room = _room(host, club=club)
    assert _audience(room) == {member_.pk, follower.pk}


def test_people_already_in_the_room_are_left_out(host):
    inside, outside = _fan(host), _fan(host)
    room = _room(host)
    member(room, inside)
    assert _audience(room) == {outside.pk}


def test_people_the_host_blocked_are_left_out(host):
    club = ClubFactory()
    room = _room(host, club=club)
    blocked = MembershipFactory(club=club).user
    BlockFactory(blocker=host, blocked=blocked)
    assert blocked.pk not in _audience(room)


def test_people_who_blocked_the_host_are_left_out(host):
    club = ClubFactory()
    room = _room(host, club=club)
    blocker = ClubFollowFactory(club=club).user
    BlockFactory(blocker=blocker, blocked=host)
    assert blocker.pk not in _audience(room)


def test_people_a_co_host_blocked_are_left_out(host):
    co_host = UserFactory()
    fan = _fan(host)
    BlockFactory(blocker=co_host, blocked=fan)
    room = _room(host)
    room.co_hosts.add(co_host)
    assert fan.pk not in _audience(room)


def test_people_removed_from_the_room_are_left_out(host):
    fan = _fan(host)
    room = _room(host)
    RoomBan.objects.create(room=room, user=fan, banned_by=host)
    assert _audience(room) == set()


def test_people_banned_from_the_club_are_left_out_of_its_rooms(host):
    club = ClubFactory()
    banned = _fan(host)
    ClubBan.objects.create(club=club, user=banned, banned_by=host)
    assert _audience(_room(host, club=club)) == set()
    assert _audience(_room(host)) == {banned.pk}


def test_a_closed_room_tells_only_those_who_may_enter(host):
    club = ClubFactory()
    MembershipFactory(club=club, user=host, role=ClubMembership.Role.ADMIN)
    outsider_fan = _fan(host)
    invited_fan = _fan(host)
    club_member = MembershipFactory(club=club).user
    club_follower = ClubFollowFactory(club=club).user
    room = _room(host, club=club, visibility=Room.Visibility.CLOSED)
    room.invitees.add(invited_fan)
    assert _audience(room) == {invited_fan.pk, club_member.pk}
    assert outsider_fan.pk not in _audience(room)
    assert club_follower.pk not in _audience(room)


def test_a_social_room_tells_only_people_the_moderators_follow(host):
    friend, fan = _fan(host), _fan(host)
    FollowFactory(follower=host, followee=friend)
    room = _room(host, visibility=Room.Visibility.SOCIAL)
    assert _audience(room) == {friend.pk}
    assert fan.pk not in _audience(room)


def test_suspended_people_are_left_out(host):
    fan = _fan(host)
    fan.is_active = False
    fan.save()
    assert _audience(_room(host)) == set()


def test_suspended_and_banned_accounts_are_left_out(host):
    suspended, banned, back = _fan(host), _fan(host), _fan(host)
    now = timezone.now()
    User.objects.filter(pk=suspended.pk).update(suspended_until=now + timedelta(days=1))
    User.objects.filter(pk=banned.pk).update(banned_at=now)
    User.objects.filter(pk=back.pk).update(suspended_until=now - timedelta(minutes=1))
    assert _audience(_room(host)) == {back.pk}


def test_people_who_turned_the_kind_off_are_left_out(host):
    quiet, loud = _fan(host), _fan(host)
    Preferences.objects.create(user=quiet, room_started=False)
    room = _room(host)
    assert _audience(room) == {loud.pk}
    assert _audience(room, Kind.ROOM_SCHEDULED) == {loud.pk, quiet.pk}


def test_people_who_muted_the_host_are_left_out(host):
    muting, other = _fan(host), _fan(host)
    PersonMute.objects.create(user=muting, muted=host)
    assert _audience(_room(host)) == {other.pk}


def test_people_who_muted_the_club_are_left_out(host):
    club = ClubFactory()
    muting, other = MembershipFactory(club=club).user, MembershipFactory(club=club).user
    ClubMute.objects.create(user=muting, club=club)
    assert _audience(_room(host, club=club)) == {other.pk}


def test_a_scheduled_room_has_the_same_audience(host):
    fan = _fan(host)
    blocked = _fan(host)
    BlockFactory(blocker=blocked, blocked=host)
    room = _room(host, status=Room.Status.SCHEDULED, scheduled_for="2030-01-01T00:00:00Z")
    assert _audience(room, Kind.ROOM_SCHEDULED) == {fan.pk}


def test_a_reminder_goes_first_to_who_asked_then_to_followers(host):
    fans = [_fan(host) for _ in range(3)]
    asked = UserFactory()
    room = _room(host, status=Room.Status.SCHEDULED, scheduled_for="2030-01-01T00:00:00Z")
    RoomRsvp.objects.create(room=room, user=asked)
    RoomRsvp.objects.create(room=room, user=fans[2])
    ids = room_audience_ids(room=room, kind=Kind.ROOM_REMINDER)
    assert ids[:2] == sorted([asked.pk, fans[2].pk])
    assert set(ids[2:]) == {fans[0].pk, fans[1].pk}
    assert len(ids) == len(set(ids))


def test_asking_for_a_reminder_wins_over_a_mute_but_not_over_a_block(host):
    muting, blocking = UserFactory(), UserFactory()
    PersonMute.objects.create(user=muting, muted=host)
    Preferences.objects.create(user=muting, room_reminder=False)
    BlockFactory(blocker=blocking, blocked=host)
    room = _room(host, status=Room.Status.SCHEDULED, scheduled_for="2030-01-01T00:00:00Z")
    RoomRsvp.objects.create(room=room, user=muting)
    RoomRsvp.objects.create(room=room, user=blocking)
    assert room_audience_ids(room=room, kind=Kind.ROOM_REMINDER) == [muting.pk]


def test_the_audience_takes_a_fixed_number_of_queries(host, django_assert_max_num_queries):
    club = ClubFactory()
    room = _room(host, club=club)
    room.co_hosts.add(UserFactory())
    for _ in range(3):
        _fan(host)
        MembershipFactory(club=club)
    with django_assert_max_num_queries(2):
        room_audience_ids(room=room, kind=Kind.ROOM_STARTED)
    for _ in range(20):
        _fan(host)
    with django_assert_max_num_queries(2):
        assert len(room_audience_ids(room=room, kind=Kind.ROOM_STARTED)) == 26


def test_starting_a_room_through_the_service_tells_followers(host, committed):
    fan = _fan(host)
    with committed():
        room = room_create(host=host, title="Now")
    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.room) == (
        fan,
        Kind.ROOM_STARTED,
        room,
    )
    assert notification.actor == host

import json
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from realtime.protocol import encode, encode_part
from rooms import selectors
from rooms.models import Room, RoomMember
from rooms.selectors import (
    hallway,
    room_list_current,
    room_snapshot,
    room_snapshot_text,
    rooms_visible_to,
)
from rooms.services.lifecycle import room_create, room_end
from tests.factories import (
    BlockFactory,
    ClubFactory,
    ClubFollowFactory,
    FollowFactory,
    MembershipFactory,
    UserFactory,
)
from tests.rooms.factories import member
from tests.support.helpers import count_queries

pytestmark = pytest.mark.django_db

Role = RoomMember.Role


def _room_with_people(host, *, speakers=2, listeners=3, **kwargs):
    room = room_create(host=host, title=f"Room of {host.username}", **kwargs)
    member(room, host, Role.MODERATOR)
    for _ in range(speakers):
        member(room, UserFactory(), Role.SPEAKER)
    for _ in range(listeners):
        member(room, UserFactory())
    return room


def _render(result):
    """Touch everything a hallway card shows."""
    for room in result["live"] + result["upcoming"]:
        _ = (room.host.username, room.club and room.club.name, room.listener_count, room.you_rsvp)
        _ = [m.user.username for m in room.stage_members]
        _ = [m.user.username for m in room.followed_members]
        _ = [topic.name for topic in room.topics.all()]


def test_hallway_query_count_does_not_grow_with_rooms(user):
    def add_rooms(n):
        for _ in range(n):
            host = UserFactory()
            FollowFactory(follower=user, followee=host)
            _room_with_people(host)
            room_create(host=host, title="Later", scheduled_for=timezone.now() + timedelta(days=1))

    add_rooms(1)
    small = count_queries(lambda: _render(hallway(viewer=user)))
    add_rooms(6)
    large = count_queries(lambda: _render(hallway(viewer=user)))
    assert small == large
    assert large <= 8


def test_hallway_puts_followed_people_and_clubs_first(user):
    stranger_room = _room_with_people(UserFactory(), listeners=9)
    followed = UserFactory()
    FollowFactory(follower=user, followee=followed)
    followed_room = _room_with_people(followed, listeners=0)
    club = ClubFactory()
    club_host = UserFactory()
    MembershipFactory(club=club, user=club_host, role="leader")
    ClubFollowFactory(club=club, user=user)
    club_room = _room_with_people(club_host, listeners=1, club=club)
    speaker_followed_room = _room_with_people(UserFactory(), listeners=2)
    followed_speaker = UserFactory()
    member(speaker_followed_room, followed_speaker, Role.SPEAKER)
    FollowFactory(follower=user, followee=followed_speaker)
    live = [r.pk for r in hallway(viewer=user)["live"]]
    assert set(live[:3]) == {followed_room.pk, club_room.pk, speaker_followed_room.pk}
    assert live[3] == stranger_room.pk


def test_hallway_lists_upcoming_rooms_in_time_order(user):
    host = UserFactory()
    soon = room_create(host=host, title="Soon", scheduled_for=timezone.now() + timedelta(hours=1))
    later = room_create(host=host, title="Later", scheduled_for=timezone.now() + timedelta(days=2))
    upcoming = [r.pk for r in hallway(viewer=user)["upcoming"]]
    assert upcoming == [soon.pk, later.pk]


def test_hallway_hides_rooms_of_blocked_hosts_both_ways(user):
    blocker, blocked = UserFactory(), UserFactory()
    BlockFactory(blocker=blocker, blocked=user)
    BlockFactory(blocker=user, blocked=blocked)
    _room_with_people(blocker)
    _room_with_people(blocked)
    visible = _room_with_people(UserFactory())
    assert [r.pk for r in hallway(viewer=user)["live"]] == [visible.pk]


def test_hallway_shows_private_rooms_only_to_those_let_in(user):
    host = UserFactory()
    social = _room_with_people(host, visibility=Room.Visibility.SOCIAL)
    closed = _room_with_people(host, visibility=Room.Visibility.CLOSED)
    assert hallway(viewer=user)["live"] == []
    FollowFactory(follower=host, followee=user)
    closed.invitees.add(user)
    assert {r.pk for r in hallway(viewer=user)["live"]} == {social.pk, closed.pk}


def test_ended_rooms_are_not_in_the_hallway(user):
    room = _room_with_people(UserFactory())
    Room.objects.filter(pk=room.pk).update(status=Room.Status.ENDED, ended_at=timezone.now())
    assert hallway(viewer=user)["live"] == []
    assert rooms_visible_to(user).filter(pk=room.pk).exists()


def test_snapshot_query_count_does_not_grow_with_the_room(host, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 10
    room = _room_with_people(host, speakers=2, listeners=3)
    small = count_queries(lambda: room_snapshot(room_id=room.pk, user=host))
    for _ in range(30):
        member(room, UserFactory())
    for _ in range(3):
        member(room, UserFactory(), hand_raised_at=timezone.now())
    large = count_queries(lambda: room_snapshot(room_id=room.pk, user=host))
    assert small == large


def test_joiners_of_a_big_room_share_a_snapshot_until_the_next_numbered_event(host, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 10
    room = _room_with_people(host, speakers=1, listeners=12)
    first_reader, second_reader = UserFactory(), UserFactory()
    first = count_queries(lambda: room_snapshot(room_id=room.pk, user=first_reader))
    shared = count_queries(lambda: room_snapshot(room_id=room.pk, user=second_reader))
    assert shared < first
    newcomer = UserFactory()
    member(room, newcomer, hand_raised_at=timezone.now())
    # Not numbered yet: the shared read stands (the event that announces it brings it).
    assert newcomer.pk not in [m.user.id for m in room_snapshot(room_id=room.pk, user=host).members]
    Room.objects.filter(pk=room.pk).update(seq=F("seq") + 1)
    again = room_snapshot(room_id=room.pk, user=second_reader)
    assert newcomer.pk in [m.user.id for m in again.members]
    assert again.me is None  # the reader is not in the room


def test_the_snapshot_text_is_the_frame_with_shared_members_written_once(host, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 10
    room = _room_with_people(host, speakers=1, listeners=12)
    # The key's text inside a string does not mislead the splice.
    Room.objects.filter(pk=room.pk).update(title='"members":[] {"x"}')
    readers = [UserFactory(), UserFactory()]
    BlockFactory(blocker=readers[1], blocked=room.members.filter(role=Role.LISTENER)[0].user)
    snapshots = [room_snapshot(room_id=room.pk, user=reader) for reader in readers]
    assert snapshots[0].members is snapshots[1].members  # shared: one read
    texts = [room_snapshot_text(snapshot) for snapshot in snapshots]
    assert texts == [encode(snapshot) for snapshot in snapshots]
    assert json.loads(texts[1])["you_blocked"] == snapshots[1].you_blocked != []
    # Written once: later joiners splice the same text in.
    shared = selectors._SHARED_SNAPSHOTS[str(room.pk)]
    assert shared.members_text is not None
    shared.members_text = encode_part(snapshots[0].members[:1])
    assert json.loads(room_snapshot_text(snapshots[0]))["members"] == json.loads(
        shared.members_text
    )
    # A snapshot that is not the shared one is written whole.
    small = _room_with_people(UserFactory(), speakers=1, listeners=1)
    alone = room_snapshot(room_id=small.pk, user=host)
    assert room_snapshot_text(alone) == encode(alone)


def test_a_small_room_is_read_afresh_for_every_joiner(host, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 10
    room = _room_with_people(host, speakers=1, listeners=2)
    room_snapshot(room_id=room.pk, user=host)
    newcomer = UserFactory()
    member(room, newcomer)
    snapshot = room_snapshot(room_id=room.pk, user=newcomer)
    assert newcomer.pk in [m.user.id for m in snapshot.members]
    assert snapshot.audience_count == 3
    assert snapshot.me.user.id == newcomer.pk


def test_snapshot_is_bounded_for_big_rooms(host, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 10
    room = _room_with_people(host, speakers=2, listeners=40)
    raised = UserFactory()
    member(room, raised, hand_raised_at=timezone.now())
    snapshot = room_snapshot(room_id=room.pk, user=host)
    roles = [m.role for m in snapshot.members]
    assert roles[:3] == ["moderator", "speaker", "speaker"]
    assert snapshot.members[3].user.id == raised.pk
    assert len(snapshot.members) == 3 + 1 + 10
    assert snapshot.audience_count == 41
    assert snapshot.me.user.id == host.pk


def test_current_rooms_of_a_host_leave_out_ended_and_long_overdue_ones(user):
    host = UserFactory()
    live = room_create(host=host, title="Live")
    soon = room_create(host=host, title="Soon", scheduled_for=timezone.now() + timedelta(hours=1))
    overdue = room_create(host=host, title="Overdue", scheduled_for=timezone.now() + timedelta(1))
    Room.objects.filter(pk=overdue.pk).update(scheduled_for=timezone.now() - timedelta(hours=2))
    ended = room_create(host=host, title="Ended")
    room_end(actor=host, room_id=ended.pk)
    room_create(host=UserFactory(), title="Someone else's")
    assert [r.pk for r in room_list_current(viewer=user, host=host)] == [live.pk, soon.pk]

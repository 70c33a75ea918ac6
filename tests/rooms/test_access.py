"""The access rule agrees with itself: the lists, the entry check and the audience of a
started room give the same answer for every person and room, and that answer is the rule
of rooms.access.

One world is built once: a host, a co-host and a member holding the moderator role, and
rooms of every visibility, with and without a club, live and scheduled. Each other person
has a profile: one or two relations to those people and rooms (every single relation and
every pair of relations from different kinds), so the cells cover each relation alone and
each interaction of two.
"""

from dataclasses import dataclass
from datetime import timedelta
from itertools import product

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from follows.models import Block, Club, ClubBan, ClubFollow, ClubMembership, Follow
from notifications.models import Notification
from notifications.selectors import room_audience_ids
from rooms.access import (
    Verdict,
    people_let_into,
    room_entry_refusal,
    room_refusals,
    room_verdict,
    rooms_open_to_visitors,
    verdict_annotations,
)
from rooms.models import Room, RoomBan, RoomMember
from rooms.selectors import rooms_visible_to
from tests.support.helpers import count_queries

pytestmark = pytest.mark.django_db
Visibility = Room.Visibility
ACTIVE, PENDING = ClubMembership.Status.ACTIVE, ClubMembership.Status.PENDING

# Each kind of relation and the values it takes besides "none"; a profile sets at most one
# value of each kind. The first kinds can keep a person out, the others can let them in.
KEEP_OUT = {
    "account": ("suspended", "suspension_over", "banned", "deactivated"),
    "club_ban": ("yes",),
    "removed": ("yes",),
    "host_blocked": ("yes",),
    "blocked_host": ("yes",),
    "co_host_blocked": ("yes",),
    "blocked_co_host": ("yes",),
    "moderator_blocked": ("yes",),
    "blocked_moderator": ("yes",),
}
LET_IN = {
    "club": ("active", "pending"),
    "invited": ("yes",),
    "co_host": ("yes",),
    "moderator_role": ("yes",),
    "host_follows": ("yes",),
    "follows_host": ("yes",),
    "co_host_follows": ("yes",),
    "moderator_follows": ("yes",),
}


def _profiles() -> list[dict[str, str]]:
    """Nobody, each relation alone, and each relation that keeps out with each that lets in."""
    out = [(kind, value) for kind, values in KEEP_OUT.items() for value in values]
    into = [(kind, value) for kind, values in LET_IN.items() for value in values]
    pairs = [dict([a, b]) for a, b in product(out, into)]
    return [{}, *(dict([relation]) for relation in out + into), *pairs]


@dataclass
class World:
    host: User
    co_host: User
    moderator: User
    rooms: list[Room]
    profiles: dict[int, dict[str, str]]

    @property
    def people(self) -> list[User]:
        return list(User.objects.order_by("pk"))


def _build() -> World:
    now = timezone.now()
    host, co_host, moderator = (
        User.objects.create(username=name) for name in ("host", "cohost", "moderator")
    )
    club = Club.objects.create(slug="owls", name="Owls")
    ClubMembership.objects.create(club=club, user=host, role=ClubMembership.Role.ADMIN)
    when = {
        "live": {"status": Room.Status.LIVE, "started_at": now},
        "later": {"scheduled_for": now + timedelta(days=1)},
    }
    rooms = [
        Room.objects.create(
            host=host,
            club=of_club,
            title=f"{visibility}{' club' if of_club else ''} {name}",
            visibility=visibility,
            speaker_cap=8,
            **fields,
        )
        for visibility in Visibility.values
        for of_club in (None, club)
        for name, fields in when.items()
    ]
    live = [room for room in rooms if room.is_live]
    for room in rooms:
        room.co_hosts.add(co_host)
    RoomMember.objects.bulk_create(
        RoomMember(room=room, user=person, role=RoomMember.Role.MODERATOR, last_seen=now)
        for room in live
        for person in (host, moderator)
    )

    profiles = _profiles()
    people = User.objects.bulk_create(User(username=f"person{i}") for i in range(len(profiles)))
    rows: dict[type, list] = {model: [] for model in (Follow, Block, ClubMembership, ClubBan)}
    rows.update({RoomBan: [], RoomMember: [], ClubFollow: []})
    co_hosted, invited = [], []
    accounts = {
        "suspended": {"suspended_until": now + timedelta(days=1)},
        "suspension_over": {"suspended_until": now - timedelta(minutes=1)},
        "banned": {"banned_at": now},
        "deactivated": {"is_active": False},
    }
    follows = {
        "host_follows": (host, None),
        "follows_host": (None, host),
        "co_host_follows": (co_host, None),
        "moderator_follows": (moderator, None),
    }
    blocks = {
        "host_blocked": (host, None),
        "blocked_host": (None, host),
        "co_host_blocked": (co_host, None),
        "blocked_co_host": (None, co_host),
        "moderator_blocked": (moderator, None),
        "blocked_moderator": (None, moderator),
    }
    for person, profile in zip(people, profiles, strict=True):
        # Everyone is in the circle told about every room: they follow its co-host.
        rows[Follow].append(Follow(follower=person, followee=co_host))
        for kind in profile:
            if kind == "account":
                User.objects.filter(pk=person.pk).update(**accounts[profile[kind]])
            elif kind == "club":
                status = ACTIVE if profile[kind] == "active" else PENDING
                rows[ClubMembership].append(ClubMembership(club=club, user=person, status=status))
            elif kind == "club_ban":
                rows[ClubBan].append(ClubBan(club=club, user=person))
            elif kind == "invited":
                invited += [Room.invitees.through(room=room, user=person) for room in rooms]
            elif kind == "co_host":
                co_hosted += [Room.co_hosts.through(room=room, user=person) for room in rooms]
            elif kind == "moderator_role":
                rows[RoomMember] += [
                    RoomMember(room=room, user=person, role="moderator", last_seen=now)
                    for room in live
                ]
            elif kind == "removed":
                rows[RoomBan] += [RoomBan(room=room, user=person) for room in rooms]
            elif kind in follows:
                follower, followee = follows[kind]
                rows[Follow].append(
                    Follow(follower=follower or person, followee=followee or person)
                )
            else:
                blocker, blocked = blocks[kind]
                rows[Block].append(Block(blocker=blocker or person, blocked=blocked or person))
    for model, objects in rows.items():
        model.objects.bulk_create(objects)
    Room.invitees.through.objects.bulk_create(invited)
    Room.co_hosts.through.objects.bulk_create(co_hosted)
    return World(
        host=host,
        co_host=co_host,
        moderator=moderator,
        rooms=rooms,
        profiles={person.pk: profile for person, profile in zip(people, profiles, strict=True)},
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def listed(world, django_db_blocker) -> dict[int, set]:
    """Each person's room list: the rooms of the world they may see."""
    with django_db_blocker.unblock():
        return {
            person.pk: set(rooms_visible_to(person).values_list("pk", flat=True))
            for person in world.people
        }


def _listed_for(listed, room: Room) -> set[int]:
    return {person for person, rooms in listed.items() if room.pk in rooms}


def test_a_room_is_listed_exactly_when_the_person_may_enter_it(world, listed):
    disagree = []
    for person in world.people:
        refusals = room_refusals(user=person, rooms=Room.objects.all())
        for room in world.rooms:
            if room.is_live:
                enters = refusals[room.pk] is None
            else:
                # Nobody enters a room before it starts; who may see it is the rule.
                refusal = room_entry_refusal(user=person, room=room)
                assert (refusal.status, refusal.message) == (404, "This room has not started yet.")
                enters = refusals[room.pk] is None
            if (room.pk in listed[person.pk]) != enters:
                disagree.append((person.username, room.title, world.profiles.get(person.pk)))
    assert disagree == []


def test_the_people_a_room_is_open_to_are_those_it_is_listed_for(world, listed):
    for room in world.rooms:
        let_in = set(User.objects.filter(people_let_into(room)).values_list("pk", flat=True))
        assert let_in == _listed_for(listed, room), room.title


def test_who_is_told_a_room_started_may_enter_it(world, listed):
    """Everyone with a profile follows the co-host and muted nothing, so the audience is
    exactly those of them who may enter and are not inside yet: the circle and preferences,
    which narrow it further, leave nobody else out here."""
    for room in world.rooms:
        kind = Notification.Kind.ROOM_STARTED if room.is_live else Notification.Kind.ROOM_SCHEDULED
        told = set(room_audience_ids(room=room, kind=kind))
        inside = set(RoomMember.objects.filter(room=room).values_list("user_id", flat=True))
        circle = set(world.profiles)
        assert told <= _listed_for(listed, room), room.title
        assert told == (_listed_for(listed, room) & circle) - inside, room.title


def _expected(profile: dict[str, str], room: Room) -> bool:
    """The rule as the module docstring of rooms.access states it, for one profile."""
    works = profile.get("account", "suspension_over") == "suspension_over"
    kept_out = bool(room.club_id and "club_ban" in profile) or "removed" in profile
    moderates = "co_host" in profile or ("moderator_role" in profile and room.is_live)
    blocks = {"host_blocked", "blocked_host", "co_host_blocked", "blocked_co_host"}
    if room.is_live:
        # The member holding the moderator role is in the live rooms only.
        blocks |= {"moderator_blocked", "blocked_moderator"}
    blocked = bool(blocks & set(profile))
    followed = bool({"host_follows", "co_host_follows"} & set(profile)) or (
        "moderator_follows" in profile and room.is_live
    )
    visible = (
        room.visibility == Visibility.OPEN
        or "invited" in profile
        or (room.visibility == Visibility.SOCIAL and followed)
        or (
            room.visibility == Visibility.CLOSED
            and bool(room.club_id)
            and profile.get("club") == "active"
        )
    )
    return works and not kept_out and (moderates or (not blocked and visible))


def test_the_rule_is_the_documented_one(world, listed):
    wrong = [
        (profile, room.title)
        for pk, profile in world.profiles.items()
        for room in world.rooms
        if (room.pk in listed[pk]) != _expected(profile, room)
    ]
    assert wrong == []


def test_the_host_co_hosts_and_moderators_see_every_room_they_moderate(world, listed):
    every = {room.pk for room in world.rooms}
    assert listed[world.host.pk] == listed[world.co_host.pk] == every
    assert {room.pk for room in world.rooms if room.is_live} <= listed[world.moderator.pk]


def test_a_visitor_sees_what_someone_with_no_ties_sees(world, listed):
    """Someone signed out is named in no row and has no account: the rule gives them what it
    gives a signed-in person with no relation at all, which is the open rooms."""
    nobody = next(pk for pk, profile in world.profiles.items() if profile == {})
    visitors = set(Room.objects.filter(rooms_open_to_visitors()).values_list("pk", flat=True))
    assert visitors == listed[nobody]
    assert visitors == {room.pk for room in world.rooms if room.visibility == Visibility.OPEN}


def _said(verdict: Verdict) -> tuple:
    refusal = verdict.refusal
    return verdict.moderator, None if refusal is None else (refusal.line, str(refusal))


def test_a_verdict_read_with_the_room_is_the_rule_for_its_person_alone(world):
    """A join reads the rule's flags with the room it locks (`verdict_annotations`): they
    say what the rule's own query says, save that query, and count for nobody else."""

    def verdict(person, room) -> tuple[tuple, int]:
        said = []
        queries = count_queries(lambda: said.append(_said(room_verdict(user=person, room=room))))
        return said[0], queries

    people = world.people
    # Live rooms, as a join locks them.
    rooms = list(Room.objects.filter(status=Room.Status.LIVE).select_related("club"))
    for n, person in enumerate(people):
        reads = Room.objects.select_related("club").annotate(**verdict_annotations(person.pk))
        reads = {read.pk: read for read in reads.filter(status=Room.Status.LIVE)}
        for room in rooms:
            read = reads[room.pk]
            (theirs, queries), (ruled, ruled_queries) = verdict(person, read), verdict(person, room)
            assert (theirs, queries) == (ruled, ruled_queries - 1)
            if n % 5 == 0:  # someone else asking of the same read: the rule's own query
                other = people[n - 1]
                assert verdict(other, read) == verdict(other, room)

"""Who may see a room, come into it and hear that it started: the rule, written once.

The rule is a list of lines about one person and one room, read from the top; the first
line that holds decides:

1. A deactivated, banned or suspended account sees no room.                       no
2. Someone banned from the room's club sees none of its rooms, even one they host. no
3. The host sees their room.                                                       yes
4. Someone a moderator removed from the room does not see it again.               no
5. Co-hosts and members holding the moderator role see it.                        yes
6. A block either way with one of its moderators (host, co-host, moderator role)
   hides it.                                                                       no
7. Its visibility lets them in: an open room, an invitation, a social room and a
   moderator follows them, a closed room of a club they are an active member of.  yes
8. Nobody else.                                                                    no

"May see" (the hallway, the room lists of people and clubs, the calendar feed, the room
page and API, "remind me") is the rule. "May enter" is the rule on a live room. "Is told
the room started" is the rule over people, which the notifications narrow further
(followers and the club, preferences, mutes).

Each line is a condition built from three kinds of facts: a relation between a person and a
room (a row that names both, such as a room ban or a follow of one of its moderators), a
fact about the room (its visibility) and a fact about the person (their account). Each fact
turns into SQL both ways: over rooms for one person (correlated `EXISTS`) and over people for
one room (`IN` a list the database computes once). So the same lines make the query over
rooms for one person (`rooms_open_to`), the query over people for one room
(`people_let_into`) and the answer with its reason for one person and one room
(`room_refusal`), and the three cannot say different things.

Where earlier copies of this rule disagreed, it now says:

- Moderators are the host, the co-hosts and whoever holds the moderator role, for social
  rooms and for blocks alike; the audience of a started room used to count the host and
  co-hosts only. A social room is "people the moderators follow", and a moderator made in
  the room runs it like a co-host.
- A block counts either way and with every moderator. Entry used to look only at blocks a
  moderator made, the hallway at blocks either way with the host only, the audience at
  blocks either way with the host and co-hosts. Someone who blocked a co-host does not want
  their room in the hallway or the bell, and letting them in by a link the hallway hides
  from them was the disagreement; a co-host runs the room as much as the host.
- Moderators pass blocks (line 5 above 6), as entry did and as taking blocked people out of
  rooms does; the hallway used to hide the room from a co-host who shared a block with the
  host.
- Someone removed from a room no longer sees it in lists or on its page (the page answers
  as for a closed room); lists used to show them a room whose door is shut to them.
- The account's state is part of the rule, as it was for the audience: signing in already
  refuses such accounts, so this matters only for a session that outlives a suspension.
- "Remind me" follows the rule; it used to look at the visibility alone. Inviting someone
  to speak from the API is refused when any line but the visibility keeps them out; it used
  to look only at removals and at blocks a moderator made.

Reports still look at the visibility alone (`room_visible_to`): someone who blocked the
host, or was removed, may still report the room.

Someone signed out (a visitor following a shared link) is read by the same lines: they are
named in no row (no follow, invitation, membership, block or removal) and have no account
to restrict, so the first six lines never hold for them and the last lets them see the
open rooms alone (`rooms_open_to_visitors`). They still enter none: the room socket wants
a sign-in.
"""

import operator
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import cast

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    Expression,
    ExpressionWrapper,
    Field,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    UUIDField,
    Value,
)
from django.db.models.functions import Now

from accounts.models import User
from core.compiled import Compiled, Param
from core.errors import ApplicationError
from follows.models import Club, ClubBan, ClubMembership
from rooms.models import Room, RoomBan, RoomMember

# A person's id, or where a compiled query takes one.
PersonId = int | Param

Visibility = Room.Visibility
# Conditions (over people or over rooms) that always and never hold.
EVERYONE, NOBODY = Q(pk__isnull=False), Q(pk__isnull=True)


class AccessError(ApplicationError):
    """The rule said no; `line` names the line of the rule that did."""

    def __init__(self, message: str, *, line: str, status: int = 403):
        super().__init__(message, code="not_found" if status == 404 else "forbidden", status=status)
        self.line = line


class _Fact(ABC):
    """A condition about one person and one room, written once, turned into SQL over rooms
    (for one person) or over people (for one room)."""

    @abstractmethod
    def over_rooms(self, person_id: PersonId) -> Q: ...

    @abstractmethod
    def over_people(self, room: Room) -> Q: ...

    @abstractmethod
    def for_visitors(self) -> Q:
        """Over rooms: where the fact holds for someone signed out."""

    def __or__(self, other: "_Fact") -> "_Fact":
        return _Either(self, other)

    def __and__(self, other: "_Fact") -> "_Fact":
        return _Both(self, other)

    def __invert__(self) -> "_Fact":
        return _Not(self)


@dataclass(frozen=True)
class _Related(_Fact):
    """Some row of `rows` names the person at `person` and, at `field`, what the room names
    at `room_field` (the room itself at "id", or its club)."""

    rows: QuerySet
    field: str
    room_field: str
    person: str

    def over_rooms(self, person_id: PersonId) -> Q:
        related = self.rows.filter(
            **{self.field: OuterRef(self.room_field), self.person: person_id}
        )
        return Q(Exists(related))

    def over_people(self, room: Room) -> Q:
        value = getattr(room, cast(Field, Room._meta.get_field(self.room_field)).attname)
        # Never a null among the ids: `NOT IN` a list holding one holds for nobody.
        related = self.rows.filter(**{self.field: value, f"{self.person}__isnull": False})
        return Q(pk__in=related.values(self.person))

    def for_visitors(self) -> Q:
        return NOBODY  # No row names someone signed out.


# Where a room's moderators are written: the host, the co-hosts and the members holding the
# moderator role, as rows, the field naming the room and the field naming the person.
_MODERATOR_ROWS = (
    (Room.objects.all(), "id", "host"),
    (Room.co_hosts.through.objects.all(), "room", "user"),
    (RoomMember.objects.filter(role=RoomMember.Role.MODERATOR), "room", "user"),
)


def _moderator_ids(room: uuid.UUID | str | OuterRef) -> list[QuerySet]:
    """The ids of the moderators of `room` (a room's id or a reference to one), by source."""
    return [
        rows.filter(**{field: room}).values_list(person, flat=True)
        for rows, field, person in _MODERATOR_ROWS
    ]


def _moderators(then: str = "") -> _Fact:
    """The person is one of the room's moderators, or with `then` is reached by that path
    from one of them (whom they follow, whom they blocked)."""
    sources = (
        _Related(rows, field, "id", f"{person}{then}") for rows, field, person in _MODERATOR_ROWS
    )
    return reduce(operator.or_, sources)


@dataclass(frozen=True)
class _RoomIs(_Fact):
    """The room's `field` is `value`."""

    field: str
    value: str

    def over_rooms(self, person_id: PersonId) -> Q:
        return Q(**{self.field: self.value})

    def over_people(self, room: Room) -> Q:
        return EVERYONE if getattr(room, self.field) == self.value else NOBODY

    def for_visitors(self) -> Q:
        return Q(**{self.field: self.value})


@dataclass(frozen=True)
class _PersonIs(_Fact):
    """The person meets `condition`, a condition over people made when the query is;
    `visitors` says whether someone signed out, who has no account, meets it."""

    condition: Callable[[], Q]
    visitors: bool

    def over_rooms(self, person_id: PersonId) -> Q:
        return Q(Exists(User.objects.filter(self.condition(), Q(pk=person_id))))

    def over_people(self, room: Room) -> Q:
        return self.condition()

    def for_visitors(self) -> Q:
        return EVERYONE if self.visitors else NOBODY


@dataclass(frozen=True)
class _Either(_Fact):
    first: _Fact
    second: _Fact

    def over_rooms(self, person_id: PersonId) -> Q:
        return self.first.over_rooms(person_id) | self.second.over_rooms(person_id)

    def over_people(self, room: Room) -> Q:
        return self.first.over_people(room) | self.second.over_people(room)

    def for_visitors(self) -> Q:
        return self.first.for_visitors() | self.second.for_visitors()


@dataclass(frozen=True)
class _Both(_Fact):
    first: _Fact
    second: _Fact

    def over_rooms(self, person_id: PersonId) -> Q:
        return self.first.over_rooms(person_id) & self.second.over_rooms(person_id)

    def over_people(self, room: Room) -> Q:
        return self.first.over_people(room) & self.second.over_people(room)

    def for_visitors(self) -> Q:
        return self.first.for_visitors() & self.second.for_visitors()


@dataclass(frozen=True)
class _Not(_Fact):
    fact: _Fact

    def over_rooms(self, person_id: PersonId) -> Q:
        return ~self.fact.over_rooms(person_id)

    def over_people(self, room: Room) -> Q:
        return ~self.fact.over_people(room)

    def for_visitors(self) -> Q:
        return ~self.fact.for_visitors()


def _account_works() -> Q:
    return Q(is_active=True, banned_at__isnull=True) & ~Q(suspended_until__gt=Now())


_A_MODERATOR = _moderators()
_FOLLOWED_BY_A_MODERATOR = _moderators("__following_set__followee")
_BLOCKED_WITH_A_MODERATOR = _moderators("__blocks_made__blocked") | _moderators(
    "__blocks_received__blocker"
)
_ACTIVE_CLUB_MEMBER = _Related(
    ClubMembership.objects.filter(status=ClubMembership.Status.ACTIVE), "club", "club", "user"
)
_INVITED = _Related(Room.invitees.through.objects.all(), "room", "id", "user")


def _not_let_in(user: User, room: Room) -> str:
    if room.visibility == Visibility.SOCIAL:
        return "This is a social room: only people the moderators follow can join."
    club = f" and members of {room.club.name}" if room.club is not None else ""
    return f"This room is closed: only invited people{club} can join."


@dataclass(frozen=True)
class _Line:
    name: str
    holds: _Fact
    # What the person is told when this line keeps them out; None for a line that lets
    # them in.
    says: Callable[[User, Room], str] | None = None


RULE = (
    _Line(
        "account",
        # Someone signed out has no account that could be restricted.
        ~_PersonIs(_account_works, visitors=True),
        says=lambda user, room: user.restriction() or "This account is deactivated.",
    ),
    _Line(
        "club_ban",
        _Related(ClubBan.objects.all(), "club", "club", "user"),
        says=lambda user, room: (
            f"An admin of {cast(Club, room.club).name} banned you from its rooms."
        ),
    ),
    _Line("host", _Related(Room.objects.all(), "id", "id", "host")),
    _Line(
        "removed",
        _Related(RoomBan.objects.all(), "room", "id", "user"),
        says=lambda user, room: "A moderator removed you from this room.",
    ),
    _Line("moderator", _A_MODERATOR),
    _Line(
        "block",
        _BLOCKED_WITH_A_MODERATOR,
        says=lambda user, room: "You cannot join this room.",
    ),
    # The last line lets people in; below it, nobody is.
    _Line(
        "visibility",
        _RoomIs("visibility", Visibility.OPEN)
        | _INVITED
        | _RoomIs("visibility", Visibility.SOCIAL) & _FOLLOWED_BY_A_MODERATOR
        | _RoomIs("visibility", Visibility.CLOSED) & _ACTIVE_CLUB_MEMBER,
    ),
)


def _rule() -> _Fact:
    """The lines folded into one condition: the first line that holds decides."""
    *above, last = RULE
    rule = last.holds
    for line in reversed(above):
        rule = ~line.holds & rule if line.says else line.holds | rule
    return rule


RULE_AS_ONE = _rule()


def rooms_open_to(person_id: PersonId) -> Q:
    """Over rooms: those the person may see (and enter, when live)."""
    return RULE_AS_ONE.over_rooms(person_id)


def rooms_open_to_visitors() -> Q:
    """Over rooms: those someone signed out may see (never enter: the socket wants a
    sign-in)."""
    return RULE_AS_ONE.for_visitors()


def people_let_into(room: Room) -> Q:
    """Over people: those who may see `room` (and enter it, when live)."""
    return RULE_AS_ONE.over_people(room)


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


# The annotation of each line's flag, in the rule's order.
_LINE_FLAGS = [f"holds_{line.name}" for line in RULE]


def _line_flags(person_id: PersonId) -> dict[str, Expression]:
    """Annotations of rooms: whether each line of the rule holds for `person_id` there."""
    return {
        name: _flag(line.holds.over_rooms(person_id))
        for name, line in zip(_LINE_FLAGS, RULE, strict=True)
    }


def room_refusals(*, user: User, rooms: QuerySet) -> dict[uuid.UUID, AccessError | None]:
    """Why `user` may not see each of `rooms`, by room id (None where they may). One query:
    each line of the rule evaluated on each room, read from the top as `rooms_open_to`
    reads them."""
    return {
        room.pk: _refusal(user, room, [getattr(room, flag) for flag in _LINE_FLAGS])
        for room in rooms.select_related("club").annotate(**_line_flags(user.pk))
    }


def _refusal(user: User, room: Room, holds: list[bool]) -> AccessError | None:
    line = next((line for line, held in zip(RULE, holds, strict=True) if held), None)
    if line is None:
        return AccessError(_not_let_in(user, room), line="visibility")
    if line.says is None:
        return None
    return AccessError(line.says(user, room), line=line.name)


_VERDICT_FOR = "verdict_for"


def verdict_annotations(person_id: PersonId) -> dict[str, Expression]:
    """Annotations of rooms with what the rule says of `person_id` there: each line's flag,
    whether they moderate the room, and whom the flags are for. A room read with them
    (`room_verdict`) needs no query of its own."""
    flags = _line_flags(person_id)
    flags["is_moderator"] = _flag(_A_MODERATOR.over_rooms(person_id))
    flags[_VERDICT_FOR] = (
        person_id if isinstance(person_id, Param) else Value(person_id, IntegerField())
    )
    return flags


_VERDICT_NAMES = [*_LINE_FLAGS, "is_moderator", _VERDICT_FOR]


def _refusals(person_id: Param, room_id: Param) -> QuerySet:
    flags = verdict_annotations(person_id)
    return Room.objects.filter(pk=room_id).annotate(**flags).values_list(*flags)


# Building the rule's query (a score of subqueries) costs Django far more than Postgres
# takes to run it, and every join asks it for one person and one room: it is compiled once.
_REFUSALS = Compiled(_refusals, person_id=BigIntegerField(), room_id=UUIDField())


@dataclass(frozen=True)
class Verdict:
    """What the rule says of one person and one room."""

    refusal: AccessError | None  # why they may not see it, or None
    moderator: bool  # the host, a co-host or holding the moderator role


def room_verdict(*, user: User, room: Room) -> Verdict:
    """The rule for `user` and `room`, and whether they moderate it: read with the room
    (`verdict_annotations`), or one query, compiled once."""
    read = vars(room)
    row: tuple | None
    if read.get(_VERDICT_FOR) == user.pk:
        row = tuple(read[name] for name in _VERDICT_NAMES)
    else:
        row = _REFUSALS.row(person_id=user.pk, room_id=room.pk)
    if row is None:
        raise Room.DoesNotExist(f"No room {room.pk}.")
    *holds, moderator, _ = row
    return Verdict(_refusal(user, room, [bool(held) for held in holds]), bool(moderator))


def room_refusal(*, user: User, room: Room) -> AccessError | None:
    """Why `user` may not see `room`, or None when they may."""
    return room_verdict(user=user, room=room).refusal


def room_entry_verdict(*, user: User, room: Room) -> Verdict:
    """The rule for coming into `room` now: only a live room lets anyone in."""
    if room.status == Room.Status.ENDED:
        refusal = AccessError("This room has ended.", line="status", status=404)
    elif room.status == Room.Status.SCHEDULED:
        refusal = AccessError("This room has not started yet.", line="status", status=404)
    else:
        return room_verdict(user=user, room=room)
    return Verdict(refusal, moderator=False)


def room_entry_refusal(*, user: User, room: Room) -> AccessError | None:
    """Why `user` may not come into `room` now, or None when they may."""
    return room_entry_verdict(user=user, room=room).refusal


def room_visible_to(*, user: User, room: Room) -> bool:
    """The room's visibility alone (no bans, no blocks), moderators included."""
    alone = _A_MODERATOR | RULE[-1].holds
    return Room.objects.filter(pk=room.pk).filter(alone.over_rooms(user.pk)).exists()


def room_moderator_ids(room: Room) -> set[int]:
    """The host, the co-hosts and whoever holds the moderator role now. One query."""
    first, *rest = _moderator_ids(room.pk)
    return set(first.union(*rest))

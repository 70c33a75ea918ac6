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

"May see" (the hallway, room lists, search, the room page and API, reminders) is the rule.
"May enter" is the rule on a live room. "Is told the room started" is the rule over people,
which the notifications narrow further (followers and the club, preferences, mutes).

The same lines make the query over rooms for one person (`rooms_open_to`), the query over
people for one room (`people_let_into`) and the answer with its reason for one person and
one room (`room_refusal`), so the three cannot say different things.

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
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError
from follows.models import ClubBan, ClubMembership
from rooms.models import Room, RoomBan, RoomMember

# A person: their id, or a reference to the people of an outer query over users.
PersonRef = int | OuterRef
Visibility = Room.Visibility


class AccessError(ApplicationError):
    """The rule said no; `line` names the line of the rule that did."""

    def __init__(self, message: str, *, line: str, status: int = 403):
        super().__init__(message, code="not_found" if status == 404 else "forbidden", status=status)
        self.line = line


def _inner(person: PersonRef) -> PersonRef:
    """`person` as seen from a subquery of the query over rooms."""
    return OuterRef(person) if isinstance(person, OuterRef) else person


def _moderator_rows(room) -> list[tuple[QuerySet, str]]:
    """Where a room's moderators are written, each as rows and the field naming the person:
    the host, the co-hosts, and the members holding the moderator role. `room` is a room's
    id or a reference to it."""
    return [
        (Room.objects.filter(pk=room), "host"),
        (Room.co_hosts.through.objects.filter(room=room), "user"),
        (RoomMember.objects.filter(room=room, role=RoomMember.Role.MODERATOR), "user"),
    ]


def _a_moderator(condition: Callable[[str], Q]) -> Q:
    """Some moderator of the room of the outer query meets `condition`, which is given the
    path from the moderator's row to them."""
    rows = _moderator_rows(OuterRef("pk"))
    return reduce(operator.or_, (Q(Exists(qs.filter(condition(field)))) for qs, field in rows))


# --- The lines of the rule, each a condition over rooms about one person -----------------


def _restricted(person: PersonRef) -> Q:
    working = User.objects.filter(pk=_inner(person), is_active=True, banned_at__isnull=True)
    return ~Q(Exists(working.exclude(suspended_until__gt=timezone.now())))


def _club_banned(person: PersonRef) -> Q:
    return Q(Exists(ClubBan.objects.filter(club=OuterRef("club"), user=_inner(person))))


def _host(person: PersonRef) -> Q:
    return Q(host=person)


def _removed(person: PersonRef) -> Q:
    return Q(Exists(RoomBan.objects.filter(room=OuterRef("pk"), user=_inner(person))))


def _moderator(person: PersonRef) -> Q:
    return _a_moderator(lambda moderator: Q(**{moderator: _inner(person)}))


def _blocked(person: PersonRef) -> Q:
    return _a_moderator(
        lambda moderator: (
            Q(**{f"{moderator}__blocks_made__blocked": _inner(person)})
            | Q(**{f"{moderator}__blocks_received__blocker": _inner(person)})
        )
    )


def _visibility(person: PersonRef) -> Q:
    followed = _a_moderator(
        lambda moderator: Q(**{f"{moderator}__following_set__followee": _inner(person)})
    )
    member = ClubMembership.objects.filter(
        club=OuterRef("club"), user=_inner(person), status=ClubMembership.Status.ACTIVE
    )
    invited = Room.invitees.through.objects.filter(room=OuterRef("pk"), user=_inner(person))
    return (
        Q(visibility=Visibility.OPEN)
        | Q(Exists(invited))
        | Q(visibility=Visibility.SOCIAL) & followed
        | Q(visibility=Visibility.CLOSED) & Q(Exists(member))
    )


def _not_let_in(user: User, room: Room) -> str:
    if room.visibility == Visibility.SOCIAL:
        return "This is a social room: only people the moderators follow can join."
    club = f" and members of {room.club.name}" if room.club_id else ""
    return f"This room is closed: only invited people{club} can join."


@dataclass(frozen=True)
class _Line:
    name: str
    holds: Callable[[PersonRef], Q]
    # What the person is told when this line keeps them out; None for a line that lets
    # them in.
    says: Callable[[User, Room], str] | None = None


RULE = (
    _Line(
        "account",
        _restricted,
        says=lambda user, room: user.restriction() or "This account is deactivated.",
    ),
    _Line(
        "club_ban",
        _club_banned,
        says=lambda user, room: f"An admin of {room.club.name} banned you from its rooms.",
    ),
    _Line("host", _host),
    _Line("removed", _removed, says=lambda user, room: "A moderator removed you from this room."),
    _Line("moderator", _moderator),
    _Line("block", _blocked, says=lambda user, room: "You cannot join this room."),
    # The last line lets people in; below it, nobody is.
    _Line("visibility", _visibility),
)


def rooms_open_to(person: PersonRef) -> Q:
    """Over rooms: those `person` may see (and enter, when live)."""
    *above, last = RULE
    rule = last.holds(person)
    for line in reversed(above):
        rule = ~line.holds(person) & rule if line.says else line.holds(person) | rule
    return rule


def people_let_into(room: Room) -> Q:
    """Over people: those who may see `room` (and enter it, when live)."""
    return Q(Exists(Room.objects.filter(pk=room.pk).filter(rooms_open_to(OuterRef("pk")))))


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def room_refusals(*, user: User, rooms: QuerySet) -> dict:
    """Why `user` may not see each of `rooms`, by room id (None where they may). One query:
    each line of the rule evaluated on each room, read from the top as `rooms_open_to`
    reads them."""
    flags = {f"holds_{line.name}": _flag(line.holds(user.pk)) for line in RULE}
    return {
        room.pk: _refusal(user, room, [getattr(room, flag) for flag in flags])
        for room in rooms.select_related("club").annotate(**flags)
    }


def _refusal(user: User, room: Room, holds: list[bool]) -> AccessError | None:
    line = next((line for line, held in zip(RULE, holds, strict=True) if held), None)
    if line is None:
        return AccessError(_not_let_in(user, room), line="visibility")
    if line.says is None:
        return None
    return AccessError(line.says(user, room), line=line.name)


def room_refusal(*, user: User, room: Room) -> AccessError | None:
    """Why `user` may not see `room`, or None when they may. One query."""
    return room_refusals(user=user, rooms=Room.objects.filter(pk=room.pk))[room.pk]


def room_entry_refusal(*, user: User, room: Room) -> AccessError | None:
    """Why `user` may not come into `room` now, or None when they may."""
    if room.status == Room.Status.ENDED:
        return AccessError("This room has ended.", line="status", status=404)
    if room.status == Room.Status.SCHEDULED:
        return AccessError("This room has not started yet.", line="status", status=404)
    return room_refusal(user=user, room=room)


def room_visible_to(*, user: User, room: Room) -> bool:
    """The room's visibility alone (no bans, no blocks), moderators included."""
    alone = _moderator(user.pk) | _visibility(user.pk)
    return Room.objects.filter(pk=room.pk).filter(alone).exists()


def room_moderator_ids(room: Room) -> set[int]:
    """The host, the co-hosts and whoever holds the moderator role now. One query."""
    ids = [qs.values_list(field, flat=True) for qs, field in _moderator_rows(room.pk)]
    return set(ids[0].union(*ids[1:]))

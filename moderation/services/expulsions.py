"""Removals that start outside a room: a block, a club ban.

The follow graph announces them (follows.signals); the people they concern are taken out of
live rooms at once, in the block's or the ban's transaction, the same way a moderator's
removal does it (rooms.services.common.member_expel). The block or the ban itself is what
keeps them out afterwards, so no RoomBan is written.
"""

from uuid import UUID

from accounts.models import User
from core.errors import ApplicationError
from follows.models import Club
from rooms.access import room_moderator_ids
from rooms.models import Room, RoomMember
from rooms.services.common import locked_live_room, member_expel


def _live_rooms_of(user: User, **room_filter: object) -> list[UUID]:
    return list(
        RoomMember.objects.filter(user=user, room__status=Room.Status.LIVE, **room_filter)
        .order_by("room_id")
        .values_list("room_id", flat=True)
    )


def _member_under_lock(
    room_id: UUID | str, user: User
) -> tuple[Room, RoomMember | None] | tuple[None, None]:
    try:
        room = locked_live_room(room_id)
    except ApplicationError:
        return None, None
    member = RoomMember.objects.select_related("user").filter(room=room, user=user).first()
    return room, member


def members_remove_blocked(*, blocker: User, blocked: User) -> int:
    """Takes `blocked` out of every live room `blocker` moderates, as room entry would have
    refused them. Hosts, co-hosts and moderators stay: blocks do not keep them out either.
    Returns how many rooms they left."""
    removed = 0
    for room_id in _live_rooms_of(blocked):
        room, member = _member_under_lock(room_id, blocked)
        if room is None or member is None:
            continue
        moderators = room_moderator_ids(room)
        if blocker.pk not in moderators or blocked.pk in moderators:
            continue
        member_expel(
            room,
            member,
            actor=blocker,
            as_staff=False,
            message="You cannot stay in this room.",
            keep_out=False,
            note="blocked by a moderator",
        )
        removed += 1
    return removed


def members_remove_club_banned(*, actor: User, club: Club, user: User) -> int:
    """Takes `user` out of every live room of `club`, whatever their role there."""
    removed = 0
    for room_id in _live_rooms_of(user, room__club=club):
        room, member = _member_under_lock(room_id, user)
        if room is None or member is None:
            continue
        member_expel(
            room,
            member,
            actor=actor,
            as_staff=False,
            message=f"An admin of {club.name} banned you from its rooms.",
            keep_out=False,
            note="banned from the club",
        )
        removed += 1
    return removed

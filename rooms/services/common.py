"""What the room services share: locked rooms, the moderators' grace period, and taking
someone out of a room."""

from typing import cast
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet, UUIDField
from django.utils import timezone

from accounts.models import User
from core.compiled import Compiled
from core.errors import ApplicationError
from follows.models import Club
from realtime.close_codes import CLOSE_FORBIDDEN
from realtime.protocol import Error
from rooms import events, protocol, signals
from rooms.media.services import media_member_changed, media_member_gone
from rooms.models import Room, RoomBan, RoomMember


def locking_rooms() -> QuerySet[Room]:
    """Rooms with their club, locked for this transaction so that events are numbered in
    order."""
    return Room.objects.select_for_update(of=("self",)).select_related("club")


def compiled_rooms(queryset: QuerySet[Room]) -> QuerySet[Room]:
    """`locking_rooms()` as a `Compiled` query reads it: the club's slug and name as
    annotations, which `locked_room` makes the room's club (`raw()` loads no related
    objects)."""
    return queryset.select_related(None).annotate(
        club_slug_read=F("club__slug"), club_name_read=F("club__name")
    )


_LOCKED_ROOM = Compiled(
    lambda room_id: compiled_rooms(locking_rooms().filter(pk=room_id)), room_id=UUIDField()
)
# The same row share-locked (Compiled's `shared`): for changes that others may make at the
# same time, but not while the room itself changes.
SHARED_ROOM = Compiled(
    lambda room_id: compiled_rooms(locking_rooms().filter(pk=room_id)),
    shared=True,
    room_id=UUIDField(),
)


def locked_room(room_id: UUID | str, query: Compiled = _LOCKED_ROOM, **values: object) -> Room:
    """The room row with its club, locked; `query` is another compiled form of
    `compiled_rooms(locking_rooms())` (with annotations) that takes `room_id` and `values`."""
    try:
        room = cast(Room | None, query.first(room_id=room_id, **values))
    except ValidationError:
        room = None  # not a UUID
    if room is None:
        raise ApplicationError.not_found("There is no such room.")
    read = vars(room)
    club = [room.club_id, read.pop("club_slug_read"), read.pop("club_name_read")]
    if room.club_id is not None:
        room.club = Club.from_db(room._state.db, ["id", "slug", "name"], club)
    return room


def locked_live_room(room_id: UUID | str, query: Compiled = _LOCKED_ROOM, **values: object) -> Room:
    room = locked_room(room_id, query, **values)
    if room.status != Room.Status.LIVE:
        raise ApplicationError.not_found("This room is not live.")
    return room


def member_save(room: Room, member: RoomMember, *fields: str) -> RoomMember:
    """Saves a change to a member and tells the room; a role or a mute applies at the media
    server too."""
    member.save(update_fields=list(fields))
    events.publish_member(room, protocol.MemberUpdated, member)
    if "role" in fields or "muted" in fields:
        media_member_changed(room, member)
    return member


def note_moderators(room: Room) -> None:
    """Starts or stops the grace period that ends a room nobody moderates."""
    connected = (
        RoomMember.objects.filter(room=room, role=RoomMember.Role.MODERATOR)
        .exclude(channel_name="")
        .exists()
    )
    if connected and room.unmoderated_since is not None:
        room.unmoderated_since = None
    elif not connected and room.unmoderated_since is None:
        room.unmoderated_since = timezone.now()
    else:
        return
    Room.objects.filter(pk=room.pk).update(unmoderated_since=room.unmoderated_since)


def member_expel(
    room: Room,
    member: RoomMember,
    *,
    actor: User,
    as_staff: bool,
    message: str,
    keep_out: bool,
    note: str = "",
) -> None:
    """Takes someone out of a live room (locked by the caller): the room hears they were
    removed, their socket gets `message` and closes, and `member_removed` is announced
    (`as_staff`: site staff did it).

    `keep_out` bans them from this room for good (a RoomBan); without it another rule (a
    block, a club ban) is what keeps them out.
    """
    if keep_out:
        RoomBan.objects.get_or_create(room=room, user=member.user, defaults={"banned_by": actor})
    member.delete()
    counted: dict[str, int] = {}
    if not member.on_stage:
        counted["audience_count"] = RoomMember.objects.filter(
            room=room, role=RoomMember.Role.LISTENER
        ).count()
    events.publish(room, protocol.MemberLeft, user_id=member.user_id, removed=True, **counted)
    media_member_gone(room, member, "removed")
    events.close_connection(
        member.channel_name, Error(code="removed", message=message), CLOSE_FORBIDDEN
    )
    if member.role == RoomMember.Role.MODERATOR:
        note_moderators(room)
    signals.member_removed.send(
        RoomMember, room=room, actor=actor, user=member.user, as_staff=as_staff, note=note
    )

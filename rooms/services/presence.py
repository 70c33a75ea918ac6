"""Who is in a room: joining, leaving, heartbeats, coalesced audience changes, the sweep.

Stage members' comings and goings are published at once. Audience joins and leaves are not:
the socket layer collects them per room and calls `audience_flush` at most every
ROOM_AUDIENCE_BATCH_SECONDS, which publishes one `members.batch` for all of them.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Exists, OuterRef, QuerySet, Subquery, UUIDField
from django.utils import timezone

from accounts.models import User
from core.cache import cache_gather
from core.compiled import Compiled, Param
from core.db import SubqueryCount
from core.errors import ApplicationError
from follows.models import Block
from realtime.close_codes import CLOSE_IDLE
from realtime.delivery import send_on_commit
from realtime.messages import ROOM_REPLACED
from realtime.protocol import Error
from rooms import events, protocol
from rooms.access import verdict_annotations
from rooms.media.services import media_member_gone, media_room_fits, media_room_has_space
from rooms.models import Room, RoomMember
from rooms.permissions import room_access_to_enter
from rooms.services.common import (
    SHARED_ROOM,
    compiled_rooms,
    locked_live_room,
    locked_room,
    locking_rooms,
    note_moderators,
)
from rooms.services.lifecycle import room_end

Role = RoomMember.Role


@dataclass
class Presence:
    member: RoomMember | None
    # True when the change is an audience one, left for the next members.batch.
    batched: bool = False
    # The room as the change found it (a join's, with its club), for the snapshot after.
    room: Room | None = None


def _room_to_join(room_id: Param, user_id: Param) -> QuerySet[Room]:
    """The join's one query: the room locked, how many are in it, whether this person is,
    what the access rule says of them there, and whether they blocked anyone (most never
    did)."""
    return compiled_rooms(
        locking_rooms()
        .filter(pk=room_id)
        .annotate(
            present=SubqueryCount(RoomMember.objects.filter(room=OuterRef("pk"))),
            mine=Subquery(
                RoomMember.objects.filter(room=OuterRef("pk"), user_id=user_id).values("pk")
            ),
            blocks_anyone=Exists(Block.objects.filter(blocker_id=user_id)),
            **verdict_annotations(user_id),
        )
    )


_ROOM_TO_JOIN = Compiled(_room_to_join, room_id=UUIDField(), user_id=BigIntegerField())
# The same, with the room's row share-locked: listeners coming in at once do not wait for
# each other, and a change to the room (which locks it) waits for them, as they for it.
_ROOM_TO_LISTEN = Compiled(
    _room_to_join, shared=True, room_id=UUIDField(), user_id=BigIntegerField()
)
# Listeners joining under the shared lock do not see each other's rows before they commit,
# so a room takes them that way only while it has space for this many more (more joins than
# server processes are rarely in flight in one room); closer to its cap, or to its move to
# the media server, they take the room's lock in turn and its checks are exact.
JOINS_IN_FLIGHT = 16


def room_join(*, user: User, room_id: UUID | str, channel_name: str) -> Presence:
    """Comes in, or takes over from an older connection of the same person.

    A newcomer to the audience of a room with space to spare comes in under a shared lock
    on the room's row; anyone else (a moderator, someone coming back, a room near its cap)
    under the room's lock, in turn."""
    try:
        joined = _listener_join(user=user, room_id=room_id, channel_name=channel_name)
    except IntegrityError:
        joined = None  # another socket of theirs came in at this moment: take over from it
    return joined or _join(user=user, room_id=room_id, channel_name=channel_name)


@transaction.atomic
def _listener_join(*, user: User, room_id: UUID | str, channel_name: str) -> Presence | None:
    """`room_join` for a newcomer to the audience of a room with space to spare; None for
    anyone else, and nothing written."""
    room = locked_live_room(room_id, _ROOM_TO_LISTEN, user_id=user.pk)
    if vars(room)["mine"] is not None or room_access_to_enter(user=user, room=room):
        return None
    if not media_room_fits(room, vars(room)["present"] + JOINS_IN_FLIGHT):
        return None
    member = RoomMember.objects.create(
        room=room,
        user=user,
        role=Role.LISTENER,
        muted=True,
        last_seen=timezone.now(),
        channel_name=channel_name,
    )
    return Presence(member, batched=True, room=room)


@transaction.atomic
def _join(*, user: User, room_id: UUID | str, channel_name: str) -> Presence:
    room = locked_live_room(room_id, _ROOM_TO_JOIN, user_id=user.pk)
    now = timezone.now()
    mine, present = vars(room)["mine"], vars(room)["present"]
    if mine is not None:
        member = RoomMember.objects.select_related("user").get(pk=mine)
        old_channel = member.channel_name
        member.channel_name, member.last_seen = channel_name, now
        member.save(update_fields=["channel_name", "last_seen"])
        if old_channel and old_channel != channel_name:
            send_on_commit(old_channel, {"type": ROOM_REPLACED})
        elif not old_channel and member.on_stage:
            events.publish_member(room, protocol.MemberUpdated, member)
        if member.role == Role.MODERATOR:
            note_moderators(room)
        return Presence(member, room=room)
    moderator = room_access_to_enter(user=user, room=room)
    if not moderator:
        media_room_has_space(room, present)
    member = RoomMember.objects.create(
        room=room,
        user=user,
        role=Role.MODERATOR if moderator else Role.LISTENER,
        muted=True,
        last_seen=now,
        channel_name=channel_name,
    )
    if member.on_stage:
        events.publish_member(room, protocol.MemberJoined, member)
        note_moderators(room)
        return Presence(member, room=room)
    return Presence(member, batched=True, room=room)


def _remove(room: Room, member: RoomMember) -> Presence:
    member.delete()
    media_member_gone(room, member, "left")
    if not member.on_stage:
        return Presence(member, batched=True)
    events.publish(room, protocol.MemberLeft, user_id=member.user_id)
    if member.role == Role.MODERATOR:
        note_moderators(room)
    return Presence(member)


def room_leave(
    *, user: User, room_id: UUID | str, channel_name: str | None = None, explicit: bool = True
) -> Presence:
    """Leaves quietly (explicit) or loses the connection.

    A lost connection of someone on stage keeps their place until they come back or the
    sweep drops them; a listener's is a leave. `channel_name` ignores a connection that
    another one replaced already. A listener leaves under a shared lock on the room's row,
    as they came in; someone on stage under the room's lock.
    """
    left = _listener_leave(user=user, room_id=room_id, channel_name=channel_name)
    if left is not None:
        return left
    return _leave(user=user, room_id=room_id, channel_name=channel_name, explicit=explicit)


def _leaving(room: Room, user: User, channel_name: str | None) -> RoomMember | None:
    member = RoomMember.objects.select_related("user").filter(room=room, user=user).first()
    if member is None or (channel_name is not None and member.channel_name != channel_name):
        return None
    return member


@transaction.atomic
def _listener_leave(
    *, user: User, room_id: UUID | str, channel_name: str | None
) -> Presence | None:
    """`room_leave` for someone in the audience (or no longer in the room); None for someone
    on stage, and nothing written."""
    room = locked_room(room_id, SHARED_ROOM)
    member = _leaving(room, user, channel_name)
    if member is None:
        return Presence(None)
    if member.on_stage:
        return None
    return _remove(room, member)


@transaction.atomic
def _leave(
    *, user: User, room_id: UUID | str, channel_name: str | None, explicit: bool
) -> Presence:
    room = locked_room(room_id)
    member = _leaving(room, user, channel_name)
    if member is None:
        return Presence(None)
    if explicit or not member.on_stage:
        return _remove(room, member)
    member.channel_name = ""
    member.save(update_fields=["channel_name"])
    events.publish_member(room, protocol.MemberUpdated, member)
    if member.role == Role.MODERATOR:
        note_moderators(room)
    return Presence(member)


PRESENCE_REFRESH_CHUNK = 1000


def presence_refresh(*, channel_names: Collection[str]) -> int:
    """Marks the members behind these connections as seen now (a connection another one
    replaced matches nobody): one UPDATE per PRESENCE_REFRESH_CHUNK connections."""
    now, names, refreshed = timezone.now(), sorted(channel_names), 0
    for start in range(0, len(names), PRESENCE_REFRESH_CHUNK):
        chunk = names[start : start + PRESENCE_REFRESH_CHUNK]
        refreshed += RoomMember.objects.filter(channel_name__in=chunk).update(last_seen=now)
    return refreshed


class Flushed(NamedTuple):
    seq: int
    audience_count: int


@transaction.atomic
def audience_flush(*, room_id: UUID | str, user_ids: Collection[int]) -> Flushed | None:
    """One `members.batch` for the audience changes of these people since the last one.

    Each person's state is read now, under the room lock, so the batch is consistent with
    the numbered events around it. Returns the event's seq and the audience's size, or None
    when nothing was sent.
    """
    try:
        room = locked_live_room(room_id)
    except ApplicationError:
        return None
    present = list(
        RoomMember.objects.select_related("user")
        .filter(room=room, user_id__in=user_ids)
        .order_by("joined_at", "pk")
    )
    present_ids = {m.user_id for m in present}
    left = sorted(set(user_ids) - present_ids)
    if not present and not left:
        return None
    audience_count = RoomMember.objects.filter(room=room, role=Role.LISTENER).count()
    # The audience is listed in order of arrival, a page at a time: newcomers past the
    # first page are counted, not listed, so a batch does not grow with the audience
    # (everyone else in it reaches the page through `audience.more`, or their own events).
    listeners = [m for m in present if m.role == Role.LISTENER]
    on_first_page = max(0, settings.ROOM_SNAPSHOT_AUDIENCE_PAGE - audience_count + len(listeners))
    listed = {m.pk for m in listeners[:on_first_page]}
    seq = events.publish(
        room,
        protocol.MembersBatch,
        joined=[
            events.member_payload(m) for m in present if m.pk in listed or m.role != Role.LISTENER
        ],
        left=left,
        audience_count=audience_count,
    )
    return Flushed(seq, audience_count)


class Turn(NamedTuple):
    taken: bool  # this process sent the window's batch (or found the room gone)
    flushed: Flushed | None
    wait: float  # seconds until the window ends, when people are still waiting for a batch


def audience_turn(*, room_id: UUID | str, user_ids: Collection[int], seconds: float) -> Turn:
    """One `members.batch` per room and window of `seconds` across all server processes.

    The people whose audience changes this process saw are parked with the room's others
    (`cache_gather`); the first process to come in a window sends the batch for all of them.
    With N processes a room then costs each member one batch per window, not N."""
    gathered = cache_gather(
        f"audience:{room_id}", [str(user_id) for user_id in user_ids], seconds=seconds
    )
    if not gathered.taken:
        return Turn(False, None, gathered.wait)
    flushed = audience_flush(room_id=room_id, user_ids={int(i) for i in gathered.taken})
    return Turn(True, flushed, gathered.wait)


def _sweep_room(room_id: UUID | str, stale_before: datetime) -> None:
    with transaction.atomic():
        room = locked_room(room_id)
        if room.status != Room.Status.LIVE:
            return
        stale = list(RoomMember.objects.filter(room=room, last_seen__lt=stale_before))
        audience = []
        for member in stale:
            if _remove(room, member).batched:
                audience.append(member.user_id)
            # A socket that is still open but never pings must not stay in the room's group,
            # hearing its events, after the room let it go.
            events.close_connection(
                member.channel_name,
                Error(code="idle", message="No ping for too long."),
                CLOSE_IDLE,
            )
        if audience:
            audience_flush(room_id=room.pk, user_ids=audience)
        note_moderators(room)


def sweep_presence(*, now: datetime | None = None) -> dict:
    """Drops members not seen for ROOM_PRESENCE_STALE_SECONDS (their server died without a
    goodbye) and ends rooms left without a moderator for ROOM_MODERATOR_GRACE_SECONDS."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.ROOM_PRESENCE_STALE_SECONDS)
    live = Room.objects.filter(status=Room.Status.LIVE)
    stale_rooms = set(
        RoomMember.objects.filter(room__in=live, last_seen__lt=stale_before).values_list(
            "room_id", flat=True
        )
    )
    connected_moderator = RoomMember.objects.filter(
        room=OuterRef("pk"), role=Role.MODERATOR
    ).exclude(channel_name="")
    unmoderated = set(
        live.filter(unmoderated_since__isnull=True)
        .exclude(Exists(connected_moderator))
        .values_list("pk", flat=True)
    )
    for room_id in stale_rooms | unmoderated:
        _sweep_room(room_id, stale_before)
    grace_over = now - timedelta(seconds=settings.ROOM_MODERATOR_GRACE_SECONDS)
    ended = list(live.filter(unmoderated_since__lt=grace_over).values_list("pk", flat=True))
    for room_id in ended:
        try:
            room_end(actor=None, room_id=room_id, reason="no_moderator")
        except ApplicationError:
            continue
    return {"rooms_swept": len(stale_rooms | unmoderated), "rooms_ended": len(ended)}

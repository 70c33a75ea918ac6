"""Rooms on the media server: when a room moves there, and what the room services' changes
mean at Janus (a mute, a move to the audience, a removal, the end).

The room services call these inside their transaction, holding the room row lock; every
command to Janus goes out after the commit, from the server, without the browser's help.
"""

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F

from accounts.models import User
from core.errors import ApplicationError
from realtime.delivery import send_on_commit
from realtime.messages import ROOM_MEDIA_REVOKE
from rooms import events, protocol
from rooms.media.control import (
    Control,
    control_run,
    control_try,
    forward_host,
    media_server_configured,
    media_servers,
)
from rooms.models import MediaBridge, MediaMountpoint, Room, RoomMember, SpeakingSpan

logger = logging.getLogger(__name__)


def media_can_move() -> bool:
    return settings.ROOM_MEDIA != "mesh" and media_server_configured()


def media_capacity() -> int:
    """Rooms the media server holds at once: each takes a port of JANUS_FORWARD_PORT_RANGE
    for its mix's mountpoint (and a room of this many would cost Janus its whole range)."""
    low, high = settings.JANUS_FORWARD_PORT_RANGE.split("-")
    return int(high) - int(low) + 1


def _bridge_create(room: Room) -> MediaBridge:
    if MediaBridge.objects.filter(room__status=Room.Status.LIVE).count() >= media_capacity():
        raise ApplicationError(
            "The media server is full: no more rooms fit on it now. Try again later.",
            code="media_full",
            status=503,
        )
    room.media = Room.Media.SFU
    Room.objects.filter(pk=room.pk).update(media=room.media)
    # Below 2**50 (our observers' ids start there) and 2**53 (exact in JavaScript).
    return MediaBridge.objects.create(room=room, janus_id=secrets.randbelow(2**49) + 1)


def media_room_started(room: Room) -> None:
    """ROOM_MEDIA=sfu, or a room that records: a room starts on the media server. A room
    scheduled to record on a site that has since lost its media server starts without."""
    if room.recording and not media_can_move():
        logger.warning("Room %s starts without recording: no media server.", room.pk)
        room.recording = False
        Room.objects.filter(pk=room.pk).update(recording=False)
    if room.recording or (settings.ROOM_MEDIA == "sfu" and media_server_configured()):
        _bridge_create(room)


def media_room_move(room: Room) -> None:
    """Moves a live room from the mesh to the media server; its members follow the event."""
    _bridge_create(room)
    events.publish(room, protocol.MediaModeChanged, mode=Room.Media.SFU)


def media_recording_changed(room: Room) -> None:
    """Starts or stops the recording at the media server after the commit (a bridge made
    later, or made again after a restart, records from its creation)."""
    bridge = _bridge_of(room)
    if bridge is None:
        return
    on = room.recording
    transaction.on_commit(
        lambda: control_try(lambda c: c.recording_set(bridge, on), "change a recording")
    )


def media_room_has_space(room: Room, members: int) -> None:
    """Refuses a newcomer to a full room, moving a room that outgrows the mesh first.

    A mesh room holds ROOM_MESH_MAX_MEMBERS when it can move to the media server (it moves
    as the next person arrives) and ROOM_MAX_MEMBERS when it cannot.
    """
    if room.media == Room.Media.SFU:
        if members >= settings.ROOM_SFU_MAX_MEMBERS:
            raise ApplicationError(
                "This room is full; try again later.", code="room_full", status=409
            )
        return
    if media_can_move() and members >= settings.ROOM_MESH_MAX_MEMBERS:
        media_room_move(room)
        return
    cap = settings.ROOM_MAX_MEMBERS
    if members >= cap:
        raise ApplicationError(
            f"This room is full: without a media server a room holds {cap} "
            f"{'person' if cap == 1 else 'people'}. Try again later.",
            code="room_full",
            status=409,
        )


def _bridge_of(room: Room) -> MediaBridge | None:
    if room.media != Room.Media.SFU:
        return None
    return MediaBridge.objects.filter(room=room).first()


def media_member_changed(room: Room, member: RoomMember) -> None:
    """After a change of role or mute: off the stage ends their participant; a mute is a
    mute at the bridge, whatever their browser does."""
    bridge = _bridge_of(room)
    if bridge is None:
        return
    if not member.on_stage:
        _participant_end(bridge, member.user_id, member.channel_name, "moved_to_audience")
        return
    user_id, muted = member.user_id, member.muted
    transaction.on_commit(
        lambda: control_try(lambda c: c.mute(bridge, user_id, muted), "apply a mute")
    )


def media_room_fits(room: Room, members: int) -> bool:
    """Whether a room of `members` people takes a newcomer as it is: not full, and not
    moving to the media server as they arrive (`media_room_has_space` would do nothing)."""
    if room.media == Room.Media.SFU:
        return members < settings.ROOM_SFU_MAX_MEMBERS
    if media_can_move():
        return members < settings.ROOM_MESH_MAX_MEMBERS
    return members < settings.ROOM_MAX_MEMBERS


def media_member_gone(room: Room, member: RoomMember, reason: str) -> None:
    """A removal, a suspension, a block, a leave: their participant ends at the bridge."""
    if not member.on_stage:
        return  # a listener sends nothing to the bridge
    bridge = _bridge_of(room)
    if bridge is not None:
        _participant_end(bridge, member.user_id, member.channel_name, reason)


def _participant_end(bridge: MediaBridge, user_id: int, channel_name: str, reason: str) -> None:
    if channel_name:
        send_on_commit(channel_name, {"type": ROOM_MEDIA_REVOKE, "reason": reason})
    transaction.on_commit(
        lambda: control_try(lambda c: c.kick(bridge, user_id), "end a participant")
    )


def media_room_ended(room: Room) -> None:
    bridge = _bridge_of(room)
    if bridge is not None:
        transaction.on_commit(lambda: bridge_destroy(bridge))


def bridge_destroy(bridge: MediaBridge) -> None:
    """The row goes once no Janus holds any of it; until then the sweep retries."""
    servers = {settings.JANUS_URL, *bridge.mountpoints.values_list("server", flat=True)}
    if all(
        control_try(lambda c: c.destroy(bridge), "destroy a room's bridge", server)
        for server in sorted(servers)
    ):
        MediaBridge.objects.filter(pk=bridge.pk).delete()


def speaking_spans_write(
    *, room_id: UUID | str, spans: list[tuple[int, datetime, datetime]]
) -> None:
    """Who was heard from a recording room's stage, and when (the replay's chapters)."""
    if not Room.objects.filter(pk=room_id, recording=True).exists():
        return
    # Someone may have deleted their account since.
    people = set(
        User.objects.filter(pk__in={span[0] for span in spans}).values_list("pk", flat=True)
    )
    SpeakingSpan.objects.bulk_create(
        SpeakingSpan(room_id=room_id, user_id=user_id, start=start, end=end)
        for user_id, start, end in spans
        if user_id in people
    )


def _live_bridge(room_id: UUID | str) -> MediaBridge:
    bridge = (
        MediaBridge.objects.select_for_update(of=("self",))
        .select_related("room")
        .filter(room_id=room_id)
        .first()
    )
    if bridge is None or not Room.objects.filter(pk=room_id, status=Room.Status.LIVE).exists():
        raise ApplicationError.not_found("This room is not on the media server.")
    return bridge


@transaction.atomic
def bridge_provision(*, room_id: UUID | str) -> MediaBridge:
    """Makes sure the room's AudioBridge exists on the stage's Janus."""
    bridge = _live_bridge(room_id)
    control_run(lambda c: c.bridge_ensure(bridge, record=bridge.room.recording))
    return bridge


@transaction.atomic
def mountpoint_take(*, room_id: UUID | str, verified: frozenset = frozenset()) -> MediaMountpoint:
    """A place for one more listener: the first server (the stage's, then the edges) with
    fewer than JANUS_LISTENERS_PER_SERVER of the room's listeners, or the least loaded.

    Its mountpoint and the forward that feeds it are made unless this process `verified`
    them (as (janus_id, server) pairs) on its current connection to that server. The bridge
    row is locked meanwhile, so two server processes never both add a forward.
    """
    bridge = _live_bridge(room_id)
    placed = {m.server: m for m in bridge.mountpoints.all()}
    servers = media_servers()
    limit = settings.JANUS_LISTENERS_PER_SERVER
    with_room = [s for s in servers if s not in placed or placed[s].listeners < limit]
    server = with_room[0] if with_room else min(servers, key=lambda s: placed[s].listeners)
    mountpoint = placed.get(server) or MediaMountpoint(bridge=bridge, server=server)
    if (bridge.janus_id, server) not in verified or mountpoint.port is None:
        host = forward_host(server)
        mountpoint.port = port = control_run(
            lambda c: c.mountpoint_ensure(bridge, host=host, port=mountpoint.port), server
        )
        control_run(lambda c: c.bridge_ensure(bridge, record=bridge.room.recording))
        control_run(lambda c: c.forward_ensure(bridge, host=host, port=port))
    mountpoint.listeners += 1
    mountpoint.save()
    return mountpoint


def mountpoint_release(*, mountpoint_id: int) -> None:
    MediaMountpoint.objects.filter(pk=mountpoint_id, listeners__gt=0).update(
        listeners=F("listeners") - 1
    )


def media_reconcile() -> dict:
    """The sweep's half for the media server: bridges of rooms that ended are destroyed, rooms
    and mountpoints at any Janus that no live room owns are destroyed, participants the
    database does not put on stage are kicked, and listener counts are read back from Janus.
    Returns what it did."""
    done = {"destroyed": 0, "kicked": 0}
    if not media_server_configured():
        return done
    for bridge in MediaBridge.objects.exclude(room__status=Room.Status.LIVE):
        bridge_destroy(bridge)
        done["destroyed"] += 1
    live = {
        b.janus_id: b
        for b in MediaBridge.objects.filter(room__status=Room.Status.LIVE).prefetch_related(
            "mountpoints"
        )
    }
    stage = set(
        RoomMember.objects.filter(
            room__media=Room.Media.SFU, role__in=RoomMember.STAGE_ROLES
        ).values_list("room_id", "user_id")
    )

    def reconcile(server: str) -> Callable[[Control], Awaitable[None]]:
        async def run(control: Control) -> None:
            for janus_id in (await control.room_ids() | await control.mountpoint_ids()) - set(live):
                await control.destroy_unknown(janus_id)
                done["destroyed"] += 1
            for bridge in live.values():
                if server == settings.JANUS_URL:
                    for user_id in await control.participant_ids(bridge):
                        if (bridge.room_id, user_id) not in stage:
                            await control.kick(bridge, user_id)
                            done["kicked"] += 1
                for mountpoint in bridge.mountpoints.all():
                    if mountpoint.server == server:
                        counts[mountpoint.pk] = await control.viewers(bridge) or 0

        return run

    counts: dict[int, int] = {}
    for server in media_servers():
        control_try(reconcile(server), "reconcile rooms", server)
    for mountpoint_id, listeners in counts.items():
        MediaMountpoint.objects.filter(pk=mountpoint_id).update(listeners=listeners)
    return done

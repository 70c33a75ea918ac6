"""What the room services share: loading a room under lock and checking it is live."""

from django.utils import timezone

from config.errors import ApplicationError
from rooms.models import ModerationLog, Room, RoomMember


def locked_room(room_id) -> Room:
    """The room row, locked for this transaction so that events are numbered in order."""
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise ApplicationError.not_found("There is no such room.")
    return room


def locked_live_room(room_id) -> Room:
    room = locked_room(room_id)
    if room.status != Room.Status.LIVE:
        raise ApplicationError.not_found("This room is not live.")
    return room


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


def log_action(*, action: str, actor, room: Room | None, target=None, note: str = "") -> None:
    ModerationLog.objects.create(action=action, actor=actor, room=room, target=target, note=note)

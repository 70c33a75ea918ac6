"""The shape of room frames, and their numbering and publication after commit.

State events carry the room's `seq` (one more than the last); ephemeral ones (reactions,
signals, pongs, errors) do not, so a client can tell a gap in state from noise.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder

from accounts.serializers import user_summary
from config.realtime import group_send_on_commit, send_on_commit
from rooms.models import Room, RoomMember

# Channel-layer message types, handled by RoomConsumer methods of the same name.
FRAME = "room.frame"  # forward `text` to the socket
CLOSE = "room.close"  # forward `text`, then close with `code`
REPLACED = "room.replaced"  # a newer connection of the same user took over
SIGNAL = "room.signal"  # a WebRTC signal from another member


def dumps(frame: dict) -> str:
    return json.dumps(frame, cls=DjangoJSONEncoder, separators=(",", ":"))


def member_payload(member: RoomMember) -> dict:
    return {
        "user": user_summary(member.user),
        "role": member.role,
        "hand_raised": member.hand_raised,
        "hand_raised_at": member.hand_raised_at,
        "muted": member.muted,
        "invited": member.invited_to_speak_at is not None,
        "connected": member.connected,
    }


def room_payload(room: Room) -> dict:
    return {
        "id": str(room.pk),
        "title": room.title,
        "description": room.description,
        "visibility": room.visibility,
        "status": room.status,
        "host_id": room.host_id,
        "club": {"slug": room.club.slug, "name": room.club.name} if room.club_id else None,
        "speaker_cap": room.speaker_cap,
        "started_at": room.started_at,
        "chat": chat_settings_payload(room),
    }


def chat_settings_payload(room: Room) -> dict:
    return {"mode": room.chat_mode, "slow_seconds": room.chat_slow_seconds}


def _numbered(room: Room, frame_type: str, payload: dict) -> dict:
    room.seq += 1
    Room.objects.filter(pk=room.pk).update(seq=room.seq)
    return {"type": frame_type, "seq": room.seq, **payload}


def publish(room: Room, frame_type: str, **payload) -> int:
    """Numbers a state event and sends it to every member once the transaction commits.

    The caller holds the room row locked, so numbers follow the order of commits.
    """
    frame = _numbered(room, frame_type, payload)
    group_send_on_commit(room.group_name, {"type": FRAME, "text": dumps(frame)})
    return room.seq


def publish_and_close(room: Room, frame_type: str, *, code: int, **payload) -> int:
    """A last state event: every connection sends it on and then closes with `code`."""
    frame = _numbered(room, frame_type, payload)
    group_send_on_commit(room.group_name, {"type": CLOSE, "text": dumps(frame), "code": code})
    return room.seq


def publish_member(room: Room, frame_type: str, member: RoomMember) -> int:
    return publish(room, frame_type, member=member_payload(member))


def broadcast(room: Room, frame: dict) -> None:
    """An ephemeral frame to every member, after commit."""
    group_send_on_commit(room.group_name, {"type": FRAME, "text": dumps(frame)})


def tell(member: RoomMember, frame: dict) -> None:
    """An ephemeral frame to one member's connection, after commit."""
    if member.channel_name:
        send_on_commit(member.channel_name, {"type": FRAME, "text": dumps(frame)})


def close_connection(channel_name: str, frame: dict, code: int) -> None:
    if channel_name:
        send_on_commit(channel_name, {"type": CLOSE, "text": dumps(frame), "code": code})

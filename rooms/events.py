"""Room frames out: built from their declarations (rooms.protocol), numbered, and published
after commit.

State events carry the room's `seq` (one more than the last); ephemeral ones (reactions,
invitations, errors) do not, so a client can tell a gap in state from noise.
"""

from accounts.serializers import user_summary
from realtime.delivery import group_send_on_commit, send_on_commit
from realtime.messages import ROOM_CLOSE, ROOM_FRAME
from realtime.protocol import ServerFrame, UserSummary, encode
from rooms import protocol
from rooms.models import Room, RoomMember


def user_payload(user) -> UserSummary:
    return UserSummary(**user_summary(user))


def member_payload(member: RoomMember) -> protocol.Member:
    return protocol.Member(
        user=user_payload(member.user),
        role=member.role,
        hand_raised=member.hand_raised,
        hand_raised_at=member.hand_raised_at,
        muted=member.muted,
        invited=member.invited_to_speak_at is not None,
        connected=member.connected,
    )


def room_payload(room: Room) -> protocol.RoomInfo:
    return protocol.RoomInfo(
        id=str(room.pk),
        title=room.title,
        description=room.description,
        visibility=room.visibility,
        status=room.status,
        host_id=room.host_id,
        club=protocol.ClubRef(slug=room.club.slug, name=room.club.name) if room.club_id else None,
        speaker_cap=room.speaker_cap,
        started_at=room.started_at,
        chat=chat_settings_payload(room),
        recording=room.recording,
    )


def chat_settings_payload(room: Room) -> protocol.ChatSettings:
    return protocol.ChatSettings(mode=room.chat_mode, slow_seconds=room.chat_slow_seconds)


def _numbered(room: Room, declared: type[protocol.Numbered], fields: dict) -> str:
    room.seq += 1
    Room.objects.filter(pk=room.pk).update(seq=room.seq)
    return encode(declared(seq=room.seq, **fields))


def publish(room: Room, declared: type[protocol.Numbered], **fields) -> int:
    """Numbers a state event and sends it to every member once the transaction commits.

    The caller holds the room row locked, so numbers follow the order of commits.
    """
    text = _numbered(room, declared, fields)
    group_send_on_commit(room.group_name, {"type": ROOM_FRAME, "text": text})
    return room.seq


def publish_and_close(room: Room, declared: type[protocol.Numbered], *, code: int, **fields) -> int:
    """A last state event: every connection sends it on and then closes with `code`."""
    text = _numbered(room, declared, fields)
    group_send_on_commit(room.group_name, {"type": ROOM_CLOSE, "text": text, "code": code})
    return room.seq


def publish_member(room: Room, declared: type[protocol.Numbered], member: RoomMember) -> int:
    return publish(room, declared, member=member_payload(member))


def _ephemeral(frame: ServerFrame) -> str:
    if frame.carries_seq:
        raise TypeError(f"{type(frame).__name__} is numbered: publish it.")
    return encode(frame)


def broadcast(room: Room, frame: ServerFrame) -> None:
    """An ephemeral frame to every member, after commit."""
    group_send_on_commit(room.group_name, {"type": ROOM_FRAME, "text": _ephemeral(frame)})


def tell(member: RoomMember, frame: ServerFrame) -> None:
    """An ephemeral frame to one member's connection, after commit."""
    if member.channel_name:
        send_on_commit(member.channel_name, {"type": ROOM_FRAME, "text": _ephemeral(frame)})


def close_connection(channel_name: str, frame: ServerFrame, code: int) -> None:
    if channel_name:
        send_on_commit(channel_name, {"type": ROOM_CLOSE, "text": _ephemeral(frame), "code": code})

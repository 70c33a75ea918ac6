from django.utils import timezone

from rooms.models import Room, RoomMember


def member(room: Room, user, role=RoomMember.Role.LISTENER, *, channel="test!chan", **fields):
    """A member row as if `user` were connected (no socket involved)."""
    return RoomMember.objects.create(
        room=room,
        user=user,
        role=role,
        last_seen=fields.pop("last_seen", timezone.now()),
        channel_name=channel,
        **fields,
    )

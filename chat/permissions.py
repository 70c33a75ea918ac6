"""Who may read a room's chat, write in it and moderate it: the checks the chat services call
first."""

from django.conf import settings

from accounts.models import User
from chat.models import ChatMute
from core.cache import cache_take
from core.errors import ApplicationError
from rooms.models import Room, RoomMember
from rooms.permissions import member_as_moderator, room_access_to_enter

ChatMode = Room.ChatMode


def chat_access_to_read(*, user: User, room: Room) -> None:
    """Raises unless `user` may read the chat of `room`: whoever may be in the room now."""
    room_access_to_enter(user=user, room=room)


def chat_access_to_post(*, room: Room, member: RoomMember) -> None:
    """Raises unless `member` (in `room`, the live room) may post in its chat now."""
    user = member.user
    if not user.is_active or user.restriction() is not None:
        raise ApplicationError.forbidden("Your account cannot post messages now.")
    if room.chat_mode == ChatMode.OFF:
        raise ApplicationError("The chat is off in this room.", code="chat_off", status=403)
    if room.chat_mode == ChatMode.STAGE and not member.on_stage:
        raise ApplicationError(
            "Only people on stage can write in this room's chat now.",
            code="chat_stage_only",
            status=403,
        )
    if ChatMute.objects.filter(room=room, user=user).exists():
        raise ApplicationError(
            "A moderator muted you in this room's chat.", code="chat_muted", status=403
        )


def chat_access_as_moderator(*, user: User, room: Room) -> RoomMember:
    """Moderators in the room act on its chat."""
    return member_as_moderator(room=room, user=user)


def chat_within_budget(*, user: User, room: Room) -> None:
    """Raises past the person's chat budget in this room: CHAT_BURST messages at once, then
    CHAT_PER_SECOND, however many sockets and server processes they write through (a
    socket's own budget started afresh with every reconnect)."""
    if not cache_take(
        f"chat:{room.pk}:{user.pk}", rate=settings.CHAT_PER_SECOND, burst=settings.CHAT_BURST
    ):
        raise ApplicationError(
            "You are writing too fast; wait a moment.", code="rate_limited", status=429
        )

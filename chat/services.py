"""Every write of the chat: posting, deleting, muting people in it and its settings.

Posting locks the author's membership row, not the room's: slow mode is checked and the
message written in one step per person, while joins, the stage and other people's messages
go on. Only a change of settings, a state of the room, takes the room's lock and a `seq`.
"""

import re
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from chat import events, protocol, signals
from chat.models import MESSAGE_MAX_LENGTH, ChatMute, Message
from chat.permissions import chat_access_as_moderator, chat_access_to_post, chat_within_budget
from chat.selectors import message_in_room
from core.errors import ApplicationError
from rooms import events as room_events
from rooms import protocol as room_protocol
from rooms.access import room_moderator_ids
from rooms.models import CHAT_SLOW_SECONDS_MAX, Room, RoomMember
from rooms.permissions import member_in_room, room_access_to_enter
from rooms.services.common import locked_live_room

# `@name` not inside a word or an address; names as accounts.models.username_validator.
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_]{2,30})\b")
# Names looked up per message; more are plain text (and no flood of notifications).
MENTIONS_MAX = 5


def _live_room(room_id: UUID | str) -> Room:
    room = Room.objects.filter(pk=room_id).first()
    if room is None or room.status != Room.Status.LIVE:
        raise ApplicationError.not_found("This room is not live.")
    return room


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ApplicationError("Write something first.", code="empty")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            f"Messages are at most {MESSAGE_MAX_LENGTH} characters ({len(text)} here).",
            code="too_long",
        )
    if "\x00" in text:
        raise ApplicationError("Messages cannot hold a NUL character.")
    return text


def _slow_mode(*, room: Room, member: RoomMember) -> None:
    if not room.chat_slow_seconds or member.role == RoomMember.Role.MODERATOR:
        return
    last = (
        Message.objects.filter(room=room, author_id=member.user_id)
        .order_by("-id")
        .values_list("created", flat=True)
        .first()
    )
    if last is None:
        return
    wait = last + timedelta(seconds=room.chat_slow_seconds) - timezone.now()
    if wait > timedelta(0):
        seconds = max(1, round(wait.total_seconds()))
        raise ApplicationError(
            f"Slow mode is on: you can write again in {seconds} s.",
            code="slow_mode",
            status=429,
        )


def _mentioned(*, room: Room, author: User, text: str) -> tuple[list[User], list[User]]:
    """The people `text` names who may be in the room: (in it now, elsewhere)."""
    names = list(dict.fromkeys(name.lower() for name in MENTION.findall(text)))[:MENTIONS_MAX]
    if not names:
        return [], []
    query = Q()
    for name in names:
        query |= Q(username__iexact=name)
    people = list(User.objects.filter(query, is_active=True).exclude(pk=author.pk))
    inside = set(
        RoomMember.objects.filter(room=room, user__in=people).values_list("user_id", flat=True)
    )
    present, absent = [], []
    for person in people:
        if person.pk in inside:
            present.append(person)
            continue
        try:
            room_access_to_enter(user=person, room=room)
        except ApplicationError:
            continue
        absent.append(person)
    return present, absent


@transaction.atomic
def message_send(
    *, actor: User, room_id: UUID | str, text: str, reply_to: int | None = None
) -> Message:
    """Posts `text` in the room's chat; everyone in the room gets it as `chat.message`."""
    text = _text(text)
    room = _live_room(room_id)
    member = (
        RoomMember.objects.select_for_update()
        .select_related("user")
        .filter(room=room, user=actor)
        .first()
    )
    if member is None:
        raise ApplicationError.forbidden("Join the room to write in its chat.")
    chat_access_to_post(room=room, member=member)
    chat_within_budget(user=actor, room=room)
    _slow_mode(room=room, member=member)
    parent = None
    if reply_to is not None:
        parent = message_in_room(room=room, message_id=reply_to)
        if parent is None or parent.is_deleted:
            raise ApplicationError.not_found("The message you reply to is not in this chat.")
    present, absent = _mentioned(room=room, author=actor, text=text)
    message = Message.objects.create(room=room, author=actor, text=text, reply_to=parent)
    if present or absent:
        message.mentions.set([*present, *absent])
    events.message_broadcast(message)
    signals.message_posted.send(Message, message=message, absent_mentions=absent)
    return message


@transaction.atomic
def message_delete(*, actor: User, room_id: UUID | str, message_id: int) -> Message:
    """Takes a message out of the chat, for everyone: its author may, and the room's
    moderators may for any message."""
    room = _live_room(room_id)
    message = (
        Message.objects.select_for_update()
        .select_related("author")
        .filter(room=room, pk=message_id)
        .first()
    )
    if message is None or message.is_deleted:
        raise ApplicationError.not_found("That message is not in this chat.")
    by_moderator = message.author_id != actor.pk
    if by_moderator:
        chat_access_as_moderator(user=actor, room=room)
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.save(update_fields=["deleted_at", "deleted_by"])
    events.room_broadcast(room, protocol.ChatDeleted(id=message.pk))
    if by_moderator:
        signals.message_deleted.send(Message, room=room, actor=actor, message=message)
    return message


@transaction.atomic
def chat_mute_set(*, actor: User, room_id: UUID | str, user_id: int, muted: bool) -> bool:
    """Mutes someone in the room's chat (they stay in the room) or lifts it. Returns whether
    anything changed; everyone in the room gets `chat.muted`."""
    room = _live_room(room_id)
    chat_access_as_moderator(user=actor, room=room)
    member = member_in_room(room=room, user_id=user_id)
    if muted and member.user_id in room_moderator_ids(room):
        raise ApplicationError.forbidden("Moderators cannot be muted in the chat.")
    if muted:
        _, changed = ChatMute.objects.get_or_create(
            room=room, user=member.user, defaults={"muted_by": actor}
        )
    else:
        changed = ChatMute.objects.filter(room=room, user=member.user).delete()[0] > 0
    if changed:
        events.room_broadcast(room, protocol.ChatMuted(user_id=member.user_id, muted=muted))
        signals.chat_muted.send(ChatMute, room=room, actor=actor, user=member.user, muted=muted)
    return changed


@transaction.atomic
def chat_settings_set(*, actor: User, room_id: UUID | str, mode: str, slow_seconds: int) -> Room:
    """Turns the chat on, off or to the stage only, and sets slow mode; everyone in the room
    gets the numbered `room.updated`."""
    if mode not in Room.ChatMode.values:
        raise ApplicationError(f"The chat's mode is one of: {', '.join(Room.ChatMode.values)}.")
    if not 0 <= slow_seconds <= CHAT_SLOW_SECONDS_MAX:
        raise ApplicationError(f"Slow mode lasts from 0 (off) to {CHAT_SLOW_SECONDS_MAX} seconds.")
    room = locked_live_room(room_id)
    chat_access_as_moderator(user=actor, room=room)
    if (room.chat_mode, room.chat_slow_seconds) == (mode, slow_seconds):
        return room
    room.chat_mode, room.chat_slow_seconds = mode, slow_seconds
    room.save(update_fields=["chat_mode", "chat_slow_seconds"])
    room_events.publish(
        room, room_protocol.RoomUpdated, chat=room_events.chat_settings_payload(room)
    )
    signals.settings_changed.send(Room, room=room, actor=actor)
    return room

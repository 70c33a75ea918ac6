"""Reads of a room's chat: pages of history by cursor, and who is muted in it."""

from typing import cast
from uuid import UUID

from django.db.models import Prefetch, Q

from accounts.models import User
from chat.models import ChatMute, Message
from core.errors import ApplicationError
from follows.models import Block
from rooms.models import Room

PAGE_SIZE = 50


def chat_room_get(*, room_id: UUID | str) -> Room:
    """The room whose chat someone asks for; who may read it is chat.permissions' call."""
    room = Room.objects.select_related("club").filter(pk=room_id).first()
    if room is None:
        raise ApplicationError.not_found("There is no such room, or it is not open to you.")
    return room


def message_page(
    *, room: Room, viewer: User, before: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Message], bool]:
    """Up to `limit` messages of the room's chat older than the message `before` (the newest
    ones without it), oldest first, and whether older ones remain. Deleted messages and those
    of people the viewer blocked are left out, and so are the previews of their messages in
    others' replies (`reply_hidden`)."""
    blocked = Block.objects.filter(blocker=viewer).values("blocked")
    messages = (
        Message.objects.filter(room=room, deleted_at__isnull=True)
        .exclude(author__in=blocked)
        .annotate(reply_hidden=Q(reply_to__author__in=blocked))
        .select_related("author", "reply_to__author")
        .prefetch_related(Prefetch("mentions", queryset=User.objects.only("id")))
        .order_by("-id")
    )
    if before is not None:
        messages = messages.filter(id__lt=before)
    # Messages annotated with `reply_hidden`, which the stubs type as a model of their own.
    page = cast("list[Message]", list(messages[: limit + 1]))
    has_more = len(page) > limit
    return page[:limit][::-1], has_more


def chat_muted_ids(*, room: Room) -> list[int]:
    """The people muted in the room's chat, earliest first."""
    return list(
        ChatMute.objects.filter(room=room)
        .order_by("created", "pk")
        .values_list("user_id", flat=True)
    )


def message_in_room(*, room: Room, message_id: int) -> Message | None:
    return Message.objects.select_related("author").filter(room=room, pk=message_id).first()

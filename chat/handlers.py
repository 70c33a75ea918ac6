"""The chat's frames on the room socket, each answered by one service or selector in a thread.

`handle(connection, frame)` gets the room consumer (its `user`, `room_id` and `send_json`)
and a frame that passed the socket's gate (size, JSON, a string `type`); the fields are
checked here. An ApplicationError it raises becomes an `error` frame.
"""

from typing import Any

from channels.db import database_sync_to_async

from accounts.models import User
from chat import events, services
from chat.permissions import chat_access_to_read
from chat.selectors import chat_muted_ids, chat_room_get, message_page
from config.errors import ApplicationError


def _id(frame: dict, field: str, *, required: bool = True) -> int | None:
    value = frame.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ApplicationError(f"`{field}` is the id of a message or a person.", code="invalid")
    return value


def _text(frame: dict) -> str:
    text = frame.get("text")
    if not isinstance(text, str):
        raise ApplicationError("`text` is the message, as text.", code="invalid")
    return text


def page(*, user: User, room_id: str, before: int | None) -> dict:
    room = chat_room_get(room_id=room_id)
    chat_access_to_read(user=user, room=room)
    messages, has_more = message_page(room=room, viewer=user, before=before)
    return events.page_frame(messages=messages, has_more=has_more, muted=chat_muted_ids(room=room))


async def handle(connection: Any, frame: dict) -> None:
    kind, user, room_id = frame["type"], connection.user, connection.room_id
    if kind == "chat.send":
        await database_sync_to_async(services.message_send)(
            actor=user,
            room_id=room_id,
            text=_text(frame),
            reply_to=_id(frame, "reply_to", required=False),
        )
    elif kind == "chat.more":
        before = _id(frame, "before", required=False)
        await connection.send_json(
            await database_sync_to_async(page)(user=user, room_id=room_id, before=before)
        )
    elif kind == "chat.delete":
        await database_sync_to_async(services.message_delete)(
            actor=user, room_id=room_id, message_id=_id(frame, "id")
        )
    elif kind in ("chat.mute", "chat.unmute"):
        await database_sync_to_async(services.chat_mute_set)(
            actor=user, room_id=room_id, user_id=_id(frame, "user_id"), muted=kind == "chat.mute"
        )
    elif kind == "chat.settings":
        mode, slow = frame.get("mode"), frame.get("slow_seconds")
        if not isinstance(mode, str) or not isinstance(slow, int) or isinstance(slow, bool):
            raise ApplicationError(
                "`mode` is on, stage or off; `slow_seconds` a whole number.", code="invalid"
            )
        await database_sync_to_async(services.chat_settings_set)(
            actor=user, room_id=room_id, mode=mode, slow_seconds=slow
        )
    else:
        raise ApplicationError(f"Unknown message type `{kind[:40]}`.", code="unknown_type")

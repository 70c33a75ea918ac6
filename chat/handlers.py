"""The chat's frames on the room socket (declared in chat.protocol), registered with the
room's handler registry on the chat's own rate budget, each answered by one service or
selector in a thread."""

from typing import Any
from uuid import UUID

from channels.db import database_sync_to_async

from accounts.models import User
from chat import events, protocol, services
from chat.permissions import chat_access_to_read
from chat.selectors import chat_muted_ids, chat_room_get, message_page
from rooms.handlers import room_handlers
from rooms.limits import FloodGuard

chat_frame = room_handlers.register


def page(*, user: User, room_id: UUID | str, before: int | None) -> protocol.ChatPage:
    room = chat_room_get(room_id=room_id)
    chat_access_to_read(user=user, room=room)
    messages, has_more = message_page(room=room, viewer=user, before=before)
    return events.page_frame(messages=messages, has_more=has_more, muted=chat_muted_ids(room=room))


@chat_frame(protocol.ChatSend, budget=FloodGuard.CHAT)
async def send(connection: Any, frame: protocol.ChatSend) -> None:
    await database_sync_to_async(services.message_send)(
        actor=connection.user, room_id=connection.room_id, text=frame.text, reply_to=frame.reply_to
    )


@chat_frame(protocol.ChatMore, budget=FloodGuard.CHAT)
async def more(connection: Any, frame: protocol.ChatMore) -> None:
    answer = await database_sync_to_async(page)(
        user=connection.user, room_id=connection.room_id, before=frame.before
    )
    await connection.send_frame(answer)


@chat_frame(protocol.ChatDelete, budget=FloodGuard.CHAT)
async def delete(connection: Any, frame: protocol.ChatDelete) -> None:
    await database_sync_to_async(services.message_delete)(
        actor=connection.user, room_id=connection.room_id, message_id=frame.id
    )


async def _mute(connection: Any, user_id: int, *, muted: bool) -> None:
    await database_sync_to_async(services.chat_mute_set)(
        actor=connection.user, room_id=connection.room_id, user_id=user_id, muted=muted
    )


@chat_frame(protocol.ChatMute, budget=FloodGuard.CHAT)
async def mute(connection: Any, frame: protocol.ChatMute) -> None:
    await _mute(connection, frame.user_id, muted=True)


@chat_frame(protocol.ChatUnmute, budget=FloodGuard.CHAT)
async def unmute(connection: Any, frame: protocol.ChatUnmute) -> None:
    await _mute(connection, frame.user_id, muted=False)


@chat_frame(protocol.ChatSettingsSet, budget=FloodGuard.CHAT)
async def settings(connection: Any, frame: protocol.ChatSettingsSet) -> None:
    await database_sync_to_async(services.chat_settings_set)(
        actor=connection.user,
        room_id=connection.room_id,
        mode=frame.mode,
        slow_seconds=frame.slow_seconds,
    )

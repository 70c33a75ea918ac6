"""The chat's frames on the room socket, declared here and added to the room protocol
(rooms.protocol.ROOM) when the app loads: the room socket carries them, the chat owns them.

None carries the room's `seq`: a message's id is the chat's own cursor, and a client that
missed messages asks for a page (`chat.more`) rather than a whole snapshot. Settings
changes are a room's state, so they come as the numbered `room.updated`.
"""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from realtime.protocol import ClientFrame, Id, ServerFrame, UserSummary
from rooms.models import CHAT_SLOW_SECONDS_MAX, Room
from rooms.protocol import ROOM

ChatMode = Literal[tuple(Room.ChatMode.values)]


class Reply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The message answered: its author and the start of its text (empty once deleted)."""

    id: Id
    user: UserSummary
    text: str
    deleted: bool


class Message(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A message as written (the client escapes it); `mentions` are the ids of the members
    it names."""

    id: Id
    user: UserSummary
    text: str
    created: datetime
    reply_to: Reply | None
    mentions: list[Id]


class ChatSend(ClientFrame, tag="chat.send"):
    """Posts `text` (at most 500 characters), as an answer to `reply_to` when given."""

    text: str
    reply_to: Id | None = None


class ChatMore(ClientFrame, tag="chat.more"):
    """Asks for the page of messages older than `before` (the newest page without it)."""

    before: Id | None = None


class ChatDelete(ClientFrame, tag="chat.delete"):
    """Deletes a message: one's own, or anyone's for a moderator."""

    id: Id


class ChatMute(ClientFrame, tag="chat.mute"):
    """A moderator stops someone writing in the chat; they stay in the room."""

    user_id: Id


class ChatUnmute(ClientFrame, tag="chat.unmute"):
    """A moderator lets someone write in the chat again."""

    user_id: Id


class ChatSettingsSet(ClientFrame, tag="chat.settings"):
    """A moderator changes who may write and the slow mode; everyone gets `room.updated`."""

    mode: ChatMode
    slow_seconds: Annotated[int, msgspec.Meta(ge=0, le=CHAT_SLOW_SECONDS_MAX)] = 0


class ChatMessage(ServerFrame, tag="chat.message"):
    """A new message, to everyone in the room except people who blocked its author."""

    message: Message


class ChatPage(ServerFrame, tag="chat.page"):
    """The answer to `chat.more` (and the history on joining), oldest first; `muted` lists
    who is muted in the chat."""

    messages: list[Message]
    has_more: bool
    muted: list[Id]


class ChatDeleted(ServerFrame, tag="chat.deleted"):
    """A message was deleted: clients take it out."""

    id: Id


class ChatMuted(ServerFrame, tag="chat.muted"):
    """Someone was muted (or unmuted) in the chat."""

    user_id: Id
    muted: bool


ROOM.extend(
    client=[ChatSend, ChatMore, ChatDelete, ChatMute, ChatUnmute, ChatSettingsSet],
    server=[ChatMessage, ChatPage, ChatDeleted, ChatMuted],
)

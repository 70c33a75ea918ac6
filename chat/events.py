"""Chat frames out: built from their declarations (chat.protocol) and delivered to a room
after commit.

A message goes to the room's channel-layer group in one send, whatever the number of
members; it carries no room `seq` (the message id is the chat's own cursor), so posting
never takes the room's row lock.
"""

from chat import protocol
from chat.models import Message
from realtime.delivery import group_send_on_commit
from realtime.messages import ROOM_FRAME
from realtime.protocol import ServerFrame, encode
from rooms.events import user_payload
from rooms.models import Room

REPLY_PREVIEW_CHARS = 120


def _reply_payload(parent: Message) -> protocol.Reply:
    return protocol.Reply(
        id=parent.pk,
        user=user_payload(parent.author),
        text="" if parent.is_deleted else parent.text[:REPLY_PREVIEW_CHARS],
        deleted=parent.is_deleted,
    )


def message_payload(message: Message, *, with_reply: bool = True) -> protocol.Message:
    """The message for its readers; `with_reply=False` for those who blocked the author of
    the message it answers, who read it as if it answered nothing (as they never read the
    message answered)."""
    reply = message.reply_to if with_reply else None
    return protocol.Message(
        id=message.pk,
        user=user_payload(message.author),
        text=message.text,
        created=message.created,
        reply_to=_reply_payload(reply) if reply else None,
        mentions=sorted(user.pk for user in message.mentions.all()),
    )


def page_frame(*, messages: list[Message], has_more: bool, muted: list[int]) -> protocol.ChatPage:
    """A page from `chat.selectors.message_page`, which notes the replies the reader must not
    see answered (`reply_hidden`)."""
    return protocol.ChatPage(
        messages=[
            message_payload(message, with_reply=not message.reply_hidden) for message in messages
        ],
        has_more=has_more,
        muted=muted,
    )


def message_broadcast(message: Message) -> None:
    """`chat.message` to the room. `author_id` lets each connection leave out the messages of
    people its reader blocked; a reply also carries the author it answers and its text
    without the answered message's preview, for readers who blocked that author."""
    frame = protocol.ChatMessage(message=message_payload(message))
    push = {"type": ROOM_FRAME, "text": encode(frame), "author_id": message.author_id}
    if message.reply_to is not None:
        push["reply_author_id"] = message.reply_to.author_id
        push["text_without_reply"] = encode(
            protocol.ChatMessage(message=message_payload(message, with_reply=False))
        )
    group_send_on_commit(message.room.group_name, push)


def room_broadcast(room: Room, frame: ServerFrame) -> None:
    group_send_on_commit(room.group_name, {"type": ROOM_FRAME, "text": encode(frame)})

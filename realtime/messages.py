"""The channel-layer messages the socket consumers handle."""

# Channels hands each to the consumer method of the same name,
# dots as underscores (`room.frame` → `room_frame`).
ROOM_FRAME = "room.frame"  # `text`: a frame to send on
ROOM_CLOSE = "room.close"  # `text`: a last frame to send on, then close with `code`
ROOM_REPLACED = "room.replaced"  # a newer connection of the same person took over
ROOM_MEDIA_REVOKE = "room.media_revoke"  # `reason`: their right to send audio ended
USER_DISCONNECT = "user.disconnect"  # `code`, `reason`: every socket of a person closes
NOTIFICATION_CREATED = "notification.created"  # `text`: the frame; `count`: unread after it
UNREAD_COUNT = "unread.count"  # `count`
HALLWAY_CHANGED = "hallway.changed"  # nothing: an open room started or ended


def person_group(user_id: int) -> str:
    """The group every notification socket of one person joins: their notifications, unread
    counts and a restriction's `user.disconnect` reach them there."""
    return f"user.{user_id}"

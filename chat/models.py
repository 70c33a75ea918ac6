"""The room chat: messages as written, and who a room's moderators muted in it."""

from django.conf import settings
from django.db import models

from rooms.models import Room

MESSAGE_MAX_LENGTH = 500


class Message(models.Model):
    """One message in a room's chat. The text is kept as written (it is escaped when shown);
    the id is the chat's cursor: it grows with every message, in every room."""

    id = models.BigAutoField(primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    # People the message names (@username) who may be in the room.
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="chat_mentions"
    )
    created = models.DateTimeField(auto_now_add=True)
    # A deleted message leaves the chat but stays for staff (reports point at it).
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        indexes = [
            models.Index(fields=["room", "-id"], name="chat_message_room_page_idx"),
            models.Index(fields=["room", "author", "-id"], name="chat_message_author_idx"),
        ]

    def __str__(self):
        return f"{self.author} in {self.room}: {self.text[:40]}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChatMute(models.Model):
    """Someone a moderator muted in a room's chat: they stay in the room but cannot write."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="chat_mutes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_mutes"
    )
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="chat_mute_unique")]

    def __str__(self):
        return f"{self.user} muted in the chat of {self.room}"

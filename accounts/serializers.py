"""The shape of a person in API answers and socket frames, shared by every app."""

from rest_framework import serializers


class UserSummarySerializer(serializers.Serializer):
    """A person in API answers: the same fields, and values, as `user_summary` gives socket
    frames (tests/accounts/test_person_shape.py holds them to it)."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField(
        source="name", help_text="The display name, or the username when there is none."
    )
    avatar_url = serializers.SerializerMethodField()

    def get_avatar_url(self, user) -> str | None:
        return user.avatar.url if user.avatar else None


def user_summary(user) -> dict:
    """A person in socket frames (realtime.protocol.UserSummary)."""
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.name,
        "avatar_url": user.avatar.url if user.avatar else None,
    }

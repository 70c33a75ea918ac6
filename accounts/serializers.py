"""The shape of a person in API answers and socket frames, shared by every app."""

from rest_framework import serializers


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.SerializerMethodField()

    def get_avatar_url(self, user) -> str | None:
        return user.avatar.url if user.avatar else None


def user_summary(user) -> dict:
    """The plain-dict form used in socket frames."""
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.name,
        "avatar_url": user.avatar.url if user.avatar else None,
    }

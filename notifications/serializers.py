"""The shape of a notification, shared by the API and the socket's `notification.created`."""

from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from notifications.models import Notification
from notifications.selectors import notification_text, notification_url


class NotificationRoomSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    status = serializers.CharField()
    scheduled_for = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(source="get_absolute_url")


class NotificationClubSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    text = serializers.SerializerMethodField(help_text="What it says, as one sentence.")
    url = serializers.SerializerMethodField(
        help_text="Where it leads: the room, the club or the person."
    )
    created = serializers.DateTimeField()
    read = serializers.BooleanField()
    actor = UserSummarySerializer(allow_null=True)
    room = NotificationRoomSerializer(allow_null=True)
    club = NotificationClubSerializer(allow_null=True)

    def get_text(self, notification) -> str:
        return notification_text(notification)

    def get_url(self, notification) -> str:
        return notification_url(notification)


def notification_payload(notification: Notification) -> dict:
    return NotificationSerializer(notification).data


def notification_payloads_of_one_event(notifications: list[Notification]) -> list[dict]:
    """The payloads of many people's notifications of one event (a fan-out's rows share
    kind, actor, room and club): serialized once, then only what differs per row is set."""
    if not notifications:
        return []
    shared = notification_payload(notifications[0])
    created = NotificationSerializer().fields["created"]
    return [
        {**shared, "id": n.pk, "created": created.to_representation(n.created), "read": n.read}
        for n in notifications
    ]

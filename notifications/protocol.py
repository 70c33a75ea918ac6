"""The notification socket's protocol (`/ws/notifications/`): every frame type, both ways,
declared once (see realtime.protocol). The socket pushes; a browser sends `ping`, and
`hallway.watch` from the hallway page."""

from datetime import datetime
from typing import Literal

import msgspec

from notifications.models import Notification
from realtime.protocol import (
    ClientFrame,
    Count,
    Error,
    Id,
    Ping,
    Pong,
    Protocol,
    ServerFrame,
    UserSummary,
)


class NotificationRoom(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    title: str
    status: str
    scheduled_for: datetime | None
    url: str


class NotificationClub(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: str
    name: str
    url: str


class NotificationInfo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The same shape as the API's notifications (notifications.serializers)."""

    id: Id
    kind: Literal[tuple(Notification.Kind.values)]
    text: str
    url: str
    created: datetime
    read: bool
    actor: UserSummary | None
    room: NotificationRoom | None
    club: NotificationClub | None


class NotificationCreated(ServerFrame, tag="notification.created"):
    """A new notification; an `unread.count` follows."""

    notification: NotificationInfo


class UnreadCount(ServerFrame, tag="unread.count"):
    """The first frame after connecting, and after every change of the count."""

    count: Count


class HallwayWatch(ClientFrame, tag="hallway.watch"):
    """Sent by the hallway page: tell this socket when an open room starts or ends
    (`hallway.changed`). Nothing answers it."""


class HallwayChanged(ServerFrame, tag="hallway.changed"):
    """An open room started or ended: fetch the hallway's lists again. It says nothing
    about the room; what the lists show passes the access rule. Only sockets that sent
    `hallway.watch` get it; rooms that are not open reach the people let in through
    their `room_started` notification instead."""


NOTIFICATIONS = Protocol(
    "notification",
    path="/ws/notifications/",
    about=(
        "A signed-in person's live notifications: the unread count first, then every new "
        "notification as it is written. Notification kinds: "
        + ", ".join(f"`{kind}`" for kind in Notification.Kind.values)
        + "."
    ),
    client=[Ping, HallwayWatch],
    server=[NotificationCreated, UnreadCount, HallwayChanged, Error, Pong],
)

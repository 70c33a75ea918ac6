"""The per-user notification socket: the unread count on connect, then every new
notification as it is written, and staff disconnects. Its frames are declared in
notifications.protocol."""

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from core.errors import ApplicationError
from notifications import services
from notifications.protocol import NOTIFICATIONS, HallwayChanged, HallwayWatch, UnreadCount
from realtime.close_codes import CLOSE_RATE_LIMITED, CLOSE_TOO_BIG, CLOSE_UNAUTHENTICATED
from realtime.consumers import GuardedConsumer, socket_open_allowed
from realtime.delivery import ensure_relay_running
from realtime.gate import FrameTooBigError, frame_parse
from realtime.messages import person_group
from realtime.protocol import Error, Pong, ServerFrame, encode
from realtime.session import socket_user
from rooms.limits import TokenBucket

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4 * 1024


def _opening(scope: dict) -> tuple:
    """The person behind the socket, and whether they may open one more this minute."""
    user = socket_user(scope)
    return user, user.is_authenticated and socket_open_allowed(user.pk, "notifications")


class NotificationConsumer(GuardedConsumer):
    async def connect(self):
        self.groups_joined: list[str] = []
        self.refresher = None
        # A browser only pings; anything faster than this is a misbehaving client.
        self.budget = TokenBucket(rate=1, burst=10)
        await self.accept()
        self.user, allowed = await database_sync_to_async(_opening)(self.scope)
        if not self.user.is_authenticated:
            await self._send(
                Error(code="not_authenticated", message="Sign in to get notifications.")
            )
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not allowed:
            await self._send(
                Error(code="rate_limited", message="You connected too often; wait a minute.")
            )
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        ensure_relay_running()
        self.groups_joined = [person_group(self.user.pk)]
        await self._join_groups()
        count = await database_sync_to_async(services.connection_open)(
            user=self.user, channel_name=self.channel_name
        )
        await self._send(UnreadCount(count=count))
        self.refresher = asyncio.get_running_loop().create_task(self._refresh_presence())

    async def _join_groups(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _refresh_presence(self) -> None:
        """Keeps the presence row fresh and re-joins the groups, which a Redis layer expires
        after a day and forgets when Redis restarts."""
        while True:
            await asyncio.sleep(settings.NOTIFY_SOCKET_REFRESH_SECONDS)
            try:
                await self._join_groups()
                await database_sync_to_async(services.connection_refresh)(
                    channel_name=self.channel_name
                )
            except Exception:
                logger.exception("Refreshing a notification socket failed; retrying later.")

    async def disconnect(self, code):
        if self.refresher is not None:
            self.refresher.cancel()
        for group in self.groups_joined:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        if self.groups_joined:
            await database_sync_to_async(services.connection_close)(channel_name=self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if not self.groups_joined:
            return
        if not self.budget.take():
            await self._send(Error(code="rate_limited", message="Too many messages."))
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        try:
            frame = NOTIFICATIONS.parse(
                frame_parse(text_data, bytes_data, max_bytes=MAX_FRAME_BYTES)
            )
        except FrameTooBigError as error:
            await self._send(Error(code=error.code, message=error.message))
            await self.close(code=CLOSE_TOO_BIG)
            return
        except ApplicationError as error:
            await self._send(Error(code=error.code, message=error.message))
            return
        if isinstance(frame, HallwayWatch):
            if services.HALLWAY_GROUP not in self.groups_joined:
                self.groups_joined.append(services.HALLWAY_GROUP)
                await self.channel_layer.group_add(services.HALLWAY_GROUP, self.channel_name)
            return
        await self._send(Pong())

    # --- messages from the channel layer -------------------------------------------------

    async def notification_created(self, message):
        await self.send(text_data=message["text"])
        await self._send(UnreadCount(count=message["count"]))

    async def unread_count(self, message):
        await self._send(UnreadCount(count=message["count"]))

    async def hallway_changed(self, message):
        await self._send(HallwayChanged())

    async def user_disconnect(self, message):
        """Staff dropped every socket of this person (a suspension, for instance)."""
        await self._send(
            Error(code="disconnected", message=message.get("reason") or "You were signed out.")
        )
        await self.close(code=message["code"])

    async def _send(self, frame: ServerFrame) -> None:
        await self.send(text_data=encode(frame))

"""The room socket: authenticate, check access, join, then hand each frame to its handler.

The consumer holds no room state of its own beyond its connection: frames pass the gate
(realtime.gate) and the rate budgets, are validated against their declarations
(rooms.protocol) and go to the handler registered for their type (rooms.handlers); every
change goes through rooms.services and comes back to all members as events from the
channel layer.
"""

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.models import User
from core.errors import ApplicationError
from follows.selectors import blocked_ids
from realtime.close_codes import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_NORMAL,
    CLOSE_NOT_FOUND,
    CLOSE_RATE_LIMITED,
    CLOSE_REPLACED,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHENTICATED,
)
from realtime.consumers import GuardedConsumer, socket_open_allowed
from realtime.delivery import ensure_relay_running
from realtime.gate import FrameTooBigError, frame_parse
from realtime.protocol import Error, ServerFrame, encode
from realtime.session import socket_user
from rooms import protocol, selectors
from rooms.batching import AudienceBatcher, PresenceRefresher
from rooms.handlers import room_handlers
from rooms.hub import RoomHubs
from rooms.limits import FloodGuard
from rooms.media.sessions import MediaSessions
from rooms.models import room_group_name
from rooms.services import presence

MAX_FRAME_BYTES = 64 * 1024


_CLOSE_CODES = {401: CLOSE_UNAUTHENTICATED, 404: CLOSE_NOT_FOUND, 429: CLOSE_RATE_LIMITED}


def _close_code_for(error: ApplicationError) -> int:
    return _CLOSE_CODES.get(error.status, CLOSE_FORBIDDEN)


@dataclass
class _Arrival:
    user: User
    presence: presence.Presence
    snapshot: protocol.RoomSnapshot
    snapshot_text: str
    blocked: set[int]


def _arrive(scope: dict, room_id: str, channel_name: str) -> _Arrival:
    """Everything a socket needs the database for when it opens, in one trip to a worker
    thread: who it is, whether they may open one more, coming into the room, the people
    they blocked and the snapshot."""
    user = socket_user(scope)
    if not user.is_authenticated:
        raise ApplicationError("Sign in to join rooms.", code="not_authenticated", status=401)
    try:
        room_id = str(uuid.UUID(room_id))
    except ValueError:
        raise ApplicationError.not_found("There is no such room.") from None
    if not socket_open_allowed(user.pk, "room"):
        raise ApplicationError(
            "You joined too often; wait a minute.", code="rate_limited", status=429
        )
    joined = presence.room_join(user=user, room_id=room_id, channel_name=channel_name)
    blocked = blocked_ids(blocker=user) if vars(joined.room)["blocks_anyone"] else set()
    snapshot = selectors.room_snapshot_of(
        room=joined.room, user=user, me=joined.member, blocked=blocked
    )
    return _Arrival(user, joined, snapshot, selectors.room_snapshot_text(snapshot), blocked)


class RoomConsumer(GuardedConsumer):
    async def connect(self):
        self.room_id = self.scope["url_route"]["kwargs"]["room_id"]
        self.user = None
        self.joined = False
        self.leaving = False  # set when this connection must not leave the room on close
        self.last_heard = time.monotonic()
        self.flood = FloodGuard()
        self.watchdog = None
        self.media = None
        # Frames by people this reader blocked (chat messages) are not delivered to them.
        self.hidden_authors: set[int] = set()
        # Room events that come before the snapshot is sent wait for it.
        self.early: list | None = []
        await self.accept()
        ensure_relay_running()
        with contextlib.suppress(ValueError):
            # Join the room's events first: every one after the snapshot's number reaches us.
            self.group = room_group_name(uuid.UUID(self.room_id))
            await RoomHubs.current().join(self.group, self)
        try:
            arrival = await database_sync_to_async(_arrive)(
                self.scope, self.room_id, self.channel_name
            )
        except ApplicationError as error:
            await self._refuse(error.code, error.message, _close_code_for(error))
            return
        self.user, self.room_id = arrival.user, str(arrival.snapshot.room.id)
        self.joined = True
        self.hidden_authors = arrival.blocked
        self.media = MediaSessions(room_id=self.room_id, user=self.user, send=self.send_frame)
        if arrival.presence.batched:
            AudienceBatcher.current().touched(self.room_id, self.user.pk)
        await self.send(text_data=arrival.snapshot_text)
        early, self.early = self.early, None
        for deliver in early:
            await deliver()
        self.watchdog = asyncio.get_running_loop().create_task(self._watch_heartbeat())

    async def _refuse(self, code: str, message: str, close_code: int) -> None:
        self.leaving = True
        await self.send_frame(Error(code=code, message=message))
        await self.close(code=close_code)

    async def disconnect(self, code):
        if self.watchdog is not None:
            self.watchdog.cancel()
        PresenceRefresher.current().forget(self.channel_name)
        # Best effort: with Redis gone the groups expire by themselves, and leaving the
        # room (in the database) matters more.
        if hasattr(self, "group"):
            with contextlib.suppress(Exception):
                await RoomHubs.current().leave(self.group, self)
        if self.media is not None:
            await self.media.close()
        # Closed by a stopping process, the member comes straight back through another one
        # and takes over their place (role, hand, mute) without the room hearing them go;
        # if they do not, the sweep lets them go once ROOM_PRESENCE_STALE_SECONDS pass.
        if self.joined and not self.leaving and not self.restarting:
            await self._leave(explicit=False)

    async def _leave(self, *, explicit: bool) -> None:
        self.joined = False
        gone = await database_sync_to_async(presence.room_leave)(
            user=self.user, room_id=self.room_id, channel_name=self.channel_name, explicit=explicit
        )
        if gone.batched:
            AudienceBatcher.current().touched(self.room_id, self.user.pk)

    async def _watch_heartbeat(self):
        timeout = settings.ROOM_HEARTBEAT_TIMEOUT_SECONDS
        while True:
            await asyncio.sleep(max(timeout / 3, 0.05))
            if time.monotonic() - self.last_heard > timeout:
                await self.send_frame(Error(code="idle", message="No ping for too long."))
                await self.close(code=CLOSE_IDLE)
                return

    # --- frames from the browser ---------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        self.last_heard = time.monotonic()
        if not self.joined:
            return
        frame, refused = None, None
        try:
            frame = frame_parse(text_data, bytes_data, max_bytes=MAX_FRAME_BYTES)
        except FrameTooBigError as error:
            await self.send_frame(Error(code=error.code, message=error.message))
            await self.close(code=CLOSE_TOO_BIG)
            return
        except ApplicationError as error:
            refused = error
        # Every frame counts against the budget, malformed ones too.
        kind = frame["type"] if frame is not None else None
        verdict = self.flood.check(room_handlers.budget_of(kind))
        if verdict == "close":
            await self.send_frame(Error(code="rate_limited", message="Too many messages."))
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        ref = frame.get("ref") if frame is not None else None
        try:
            if refused is not None:
                raise refused
            if verdict == "warn":
                raise ApplicationError(
                    "You are sending too fast; slow down or you will be disconnected.",
                    code="rate_limited",
                    status=429,
                )
            await room_handlers.dispatch(self, frame)
        except ApplicationError as error:
            reply = Error(code=error.code, message=error.message)
            if isinstance(ref, str | int) and not isinstance(ref, bool):
                reply.ref = ref
            await self.send_frame(reply)

    async def leave_for_good(self) -> None:
        """`room.leave`: out of the room, even from the stage, and the socket closes."""
        self.leaving = True
        await self._leave(explicit=True)
        await self.close(code=CLOSE_NORMAL)

    # --- messages from the channel layer -------------------------------------------------

    # --- the room's events, from its hub in this process (rooms.hub) ------------------------

    async def room_event(self, message: dict) -> None:
        if self.early is not None:
            self.early.append(lambda: self.dispatch(message))
            return
        await self.dispatch(message)

    async def room_chat(self, held: list[dict]) -> None:
        """Chat messages held together, written back to back."""
        if self.early is not None:
            self.early.append(lambda: self.room_chat(held))
            return
        for message in held:
            await self.room_frame(message)

    async def room_frame(self, message):
        # A chat message carries its author: people the reader blocked are not heard, nor
        # quoted in a reply to them.
        if message.get("author_id") in self.hidden_authors:
            return
        if message.get("reply_author_id") in self.hidden_authors:
            await self.send(text_data=message["text_without_reply"])
            return
        await self.send(text_data=message["text"])

    async def room_close(self, message):
        self.leaving = True
        self.joined = False
        await self.send(text_data=message["text"])
        await self.close(code=message["code"])

    async def room_replaced(self, message):
        self.leaving = True
        self.joined = False
        await self.send_frame(Error(code="replaced", message="You joined from somewhere else."))
        await self.close(code=CLOSE_REPLACED)

    async def user_disconnect(self, message):
        """The person may not be here at all any more (staff suspended or banned them):
        every socket of theirs, in every process, gets this: a room socket through its
        member's channel (moderation.services.restrictions).

        They leave the room for good, even from the stage, rather than keeping their place
        as after a lost connection: they cannot come back while locked out, and a kept seat
        would show a silent speaker, take a stage place, and keep a room looking moderated
        by someone who cannot act in it.
        """
        was_in_room = self.joined and not self.leaving
        self.leaving = True
        await self.send_frame(Error(code="disconnected", message=message["reason"]))
        await self.close(code=message["code"])
        if was_in_room:
            await self._leave(explicit=True)

    async def room_media_revoke(self, message):
        if self.media is not None:
            await self.media.revoke(message["reason"])

    async def send_frame(self, frame: ServerFrame) -> None:
        await self.send(text_data=encode(frame))

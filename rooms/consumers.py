"""The room socket: authenticate, check access, join, then relay frames to services.

The consumer holds no room state of its own beyond its connection: every change goes
through rooms.services (in a thread, via database_sync_to_async) and comes back to all
members as events from the channel layer.
"""

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async
from django.conf import settings

from config.errors import ApplicationError
from config.frames import FrameTooBigError, frame_parse
from config.realtime import ensure_relay_running
from config.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_NOT_FOUND,
    CLOSE_RATE_LIMITED,
    CLOSE_REPLACED,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHENTICATED,
    GuardedConsumer,
    socket_open_allowed,
)
from follows.selectors import blocked_ids
from rooms import selectors, signalling
from rooms.events import SIGNAL, dumps
from rooms.limits import FloodGuard
from rooms.media.sessions import MediaSessions
from rooms.models import Room
from rooms.services import lifecycle, presence, stage

MAX_FRAME_BYTES = 64 * 1024

# Frame types answered by an app above rooms (the chat), by prefix: registered from that
# app's AppConfig.ready, called with the consumer and the frame.
FRAME_HOOKS: dict[str, Callable[["RoomConsumer", dict], Awaitable[None]]] = {}
# The rate budget of each hooked prefix (rooms.limits.FloodGuard).
HOOK_BUDGETS: dict[str, str] = {}


def _hook_prefix(kind: str | None) -> str | None:
    if kind is None:
        return None
    return next((prefix for prefix in FRAME_HOOKS if kind.startswith(prefix)), None)


def _close_code_for(error: ApplicationError) -> int:
    return CLOSE_NOT_FOUND if error.status == 404 else CLOSE_FORBIDDEN


class AudienceBatcher:
    """Coalesces one process's audience joins and leaves, per room, into one `members.batch`
    every ROOM_AUDIENCE_BATCH_SECONDS. One per event loop."""

    _per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AudienceBatcher]" = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self):
        self.pending: dict[str, set[int]] = {}

    @classmethod
    def current(cls) -> "AudienceBatcher":
        loop = asyncio.get_running_loop()
        if loop not in cls._per_loop:
            cls._per_loop[loop] = cls()
        return cls._per_loop[loop]

    def touched(self, room_id: str, user_id: int) -> None:
        if room_id not in self.pending:
            self.pending[room_id] = set()
            asyncio.get_running_loop().create_task(self._flush_later(room_id))
        self.pending[room_id].add(user_id)

    async def _flush_later(self, room_id: str) -> None:
        await asyncio.sleep(settings.ROOM_AUDIENCE_BATCH_SECONDS)
        user_ids = self.pending.pop(room_id)
        await database_sync_to_async(presence.audience_flush)(room_id=room_id, user_ids=user_ids)


def _user_id(frame: dict) -> int:
    user_id = frame.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ApplicationError("`user_id` is the id of a member of this room.", code="invalid")
    return user_id


class RoomConsumer(GuardedConsumer):
    # Client frame type → (service call, budget). Each call gets (actor, room_id, frame).
    ACTIONS = {
        "hand.raise": lambda a, r, f: stage.hand_raise(actor=a, room_id=r),
        "hand.lower": lambda a, r, f: stage.hand_lower(actor=a, room_id=r),
        "speaker.invite": lambda a, r, f: stage.speaker_invite(
            actor=a, room_id=r, user_id=_user_id(f)
        ),
        "speaker.accept": lambda a, r, f: stage.speaker_accept(actor=a, room_id=r),
        "speaker.decline": lambda a, r, f: stage.speaker_decline(actor=a, room_id=r),
        "speaker.leave": lambda a, r, f: stage.speaker_leave(actor=a, room_id=r),
        "speaker.remove": lambda a, r, f: stage.speaker_remove(
            actor=a, room_id=r, user_id=_user_id(f)
        ),
        "mute.set": lambda a, r, f: stage.mute_set(actor=a, room_id=r, muted=_muted(f)),
        "mute.force": lambda a, r, f: stage.mute_force(actor=a, room_id=r, user_id=_user_id(f)),
        "moderator.grant": lambda a, r, f: stage.moderator_grant(
            actor=a, room_id=r, user_id=_user_id(f)
        ),
        "moderator.revoke": lambda a, r, f: stage.moderator_revoke(
            actor=a, room_id=r, user_id=_user_id(f)
        ),
        "member.remove": lambda a, r, f: stage.member_remove(
            actor=a, room_id=r, user_id=_user_id(f)
        ),
        "room.end": lambda a, r, f: lifecycle.room_end(actor=a, room_id=r),
        "reaction": lambda a, r, f: stage.reaction_send(actor=a, room_id=r, emoji=f.get("emoji")),
    }

    async def connect(self):
        self.room_id = self.scope["url_route"]["kwargs"]["room_id"]
        self.user = self.scope.get("user")
        self.joined = False
        self.leaving = False  # set when this connection must not leave the room on close
        self.last_heard = time.monotonic()
        self.flood = FloodGuard()
        self.watchdog = None
        self.media = None
        # Frames by people this reader blocked (chat messages) are not delivered to them.
        self.hidden_authors: set[int] = set()
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self._refuse("not_authenticated", "Sign in to join rooms.", CLOSE_UNAUTHENTICATED)
            return
        try:
            self.room_id = str(uuid.UUID(self.room_id))
        except ValueError:
            await self._refuse("not_found", "There is no such room.", CLOSE_NOT_FOUND)
            return
        if not await socket_open_allowed(self.user, "room"):
            await self._refuse(
                "rate_limited", "You joined too often; wait a minute.", CLOSE_RATE_LIMITED
            )
            return
        ensure_relay_running()
        self.group = Room(pk=uuid.UUID(self.room_id)).group_name
        self.user_group = f"user.{self.user.pk}"
        # Join the group first: every event after the snapshot's number reaches us.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        try:
            joined = await database_sync_to_async(presence.room_join)(
                user=self.user, room_id=self.room_id, channel_name=self.channel_name
            )
            snapshot = await database_sync_to_async(selectors.room_snapshot)(
                room_id=self.room_id, user=self.user
            )
        except ApplicationError as error:
            await self._refuse(error.code, error.message, _close_code_for(error))
            return
        self.joined = True
        self.hidden_authors = await database_sync_to_async(blocked_ids)(blocker=self.user)
        self.media = MediaSessions(room_id=self.room_id, user=self.user, send=self.send_json)
        if joined.batched:
            AudienceBatcher.current().touched(self.room_id, self.user.pk)
        await self.send(text_data=dumps(snapshot))
        self.watchdog = asyncio.get_running_loop().create_task(self._watch_heartbeat())

    async def _refuse(self, code: str, message: str, close_code: int) -> None:
        self.leaving = True
        await self.send_json({"type": "error", "code": code, "message": message})
        await self.close(code=close_code)

    async def disconnect(self, code):
        if self.watchdog is not None:
            self.watchdog.cancel()
        if hasattr(self, "group"):
            # Best effort: with Redis gone the groups expire by themselves, and leaving the
            # room (in the database) matters more.
            for group in (self.group, self.user_group):
                with contextlib.suppress(Exception):
                    await self.channel_layer.group_discard(group, self.channel_name)
        if self.media is not None:
            await self.media.close()
        if self.joined and not self.leaving:
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
                await self.send_json(
                    {"type": "error", "code": "idle", "message": "No ping for too long."}
                )
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
            await self.send_json({"type": "error", "code": error.code, "message": error.message})
            await self.close(code=CLOSE_TOO_BIG)
            return
        except ApplicationError as error:
            refused = error
        # Every frame counts against the budget, malformed ones too.
        kind = frame["type"] if frame is not None else None
        signalling = kind is not None and (kind == "signal" or kind.startswith("media."))
        hook = _hook_prefix(kind)
        if hook is not None:
            budget = HOOK_BUDGETS[hook]
        else:
            budget = FloodGuard.SIGNAL if signalling else FloodGuard.ACTION
        verdict = self.flood.check(budget)
        if verdict == "close":
            await self.send_json(
                {"type": "error", "code": "rate_limited", "message": "Too many messages."}
            )
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
            await self._dispatch(kind, frame)
        except ApplicationError as error:
            reply = {"type": "error", "code": error.code, "message": error.message}
            if isinstance(ref, str | int) and not isinstance(ref, bool):
                reply["ref"] = ref
            await self.send_json(reply)

    async def _dispatch(self, kind: str, frame: dict) -> None:
        if kind == "ping":
            await database_sync_to_async(presence.room_heartbeat)(
                user=self.user, room_id=self.room_id, channel_name=self.channel_name
            )
            await self.send_json({"type": "pong"})
        elif kind == "snapshot.request":
            snapshot = await database_sync_to_async(selectors.room_snapshot)(
                room_id=self.room_id, user=self.user
            )
            await self.send(text_data=dumps(snapshot))
        elif kind == "audience.more":
            offset = frame.get("offset")
            if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
                raise ApplicationError("`offset` is a whole number of members.", code="invalid")
            page = await database_sync_to_async(selectors.audience_page)(
                room_id=self.room_id, offset=offset
            )
            await self.send(text_data=dumps(page))
        elif kind == "signal":
            await self._relay_signal(frame)
        elif kind.startswith("media."):
            await self.media.receive(kind, frame)
        elif kind == "room.leave":
            self.leaving = True
            await self._leave(explicit=True)
            await self.close(code=1000)
        elif (hook := _hook_prefix(kind)) is not None:
            await FRAME_HOOKS[hook](self, frame)
        elif kind in self.ACTIONS:
            call = self.ACTIONS[kind]
            await database_sync_to_async(call)(self.user, self.room_id, frame)
        else:
            raise ApplicationError(f"Unknown message type `{kind}`.", code="unknown_type")

    async def _relay_signal(self, frame: dict) -> None:
        signal = signalling.signal_parse(frame)
        channel = await database_sync_to_async(signalling.signal_route)(
            room_id=self.room_id, sender_id=self.user.pk, signal=signal
        )
        await self.channel_layer.send(
            channel, {"type": SIGNAL, "from": self.user.pk, **signal.frame_fields()}
        )

    # --- messages from the channel layer -------------------------------------------------

    async def room_frame(self, message):
        if message.get("author_id") in self.hidden_authors:
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
        await self.send_json(
            {"type": "error", "code": "replaced", "message": "You joined from somewhere else."}
        )
        await self.close(code=CLOSE_REPLACED)

    async def user_disconnect(self, message):
        """The person may not be here at all any more (staff suspended or banned them):
        every socket of theirs, in every process, gets this through the group `user.<id>`.

        They leave the room for good, even from the stage, rather than keeping their place
        as after a lost connection: they cannot come back while locked out, and a kept seat
        would show a silent speaker, take a stage place, and keep a room looking moderated
        by someone who cannot act in it.
        """
        was_in_room = self.joined and not self.leaving
        self.leaving = True
        await self.send_json(
            {"type": "error", "code": "disconnected", "message": message["reason"]}
        )
        await self.close(code=message["code"])
        if was_in_room:
            await self._leave(explicit=True)

    async def room_media_revoke(self, message):
        if self.media is not None:
            await self.media.revoke(message["reason"])

    async def room_signal(self, message):
        frame = {key: value for key, value in message.items() if key != "type"}
        await self.send_json({"type": "signal", **frame})

    async def send_json(self, content):
        await self.send(text_data=dumps(content))


def _muted(frame: dict) -> bool:
    muted = frame.get("muted")
    if not isinstance(muted, bool):
        raise ApplicationError("`muted` is true or false.", code="invalid")
    return muted

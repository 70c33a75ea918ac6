"""A room's events reach a server process once and its members from there.

Each process with members in a room keeps one `RoomHub` for it: one channel of the channel
layer in the room's group, whose messages the hub hands to every member connected here, in
order. A consumer per member in the group would cost each event one read from the layer,
one decoding and one dispatch per member; here that is once per process, and what remains per
member is writing the frame to its socket.

Chat messages (`ROOM_FRAME` with an `author_id`) are held for up to
ROOM_CHAT_COALESCE_SECONDS and written to each socket back to back: a chat storm then costs a
socket one write of several frames per interval rather than one per message, which is what
a busy room spends its time on. Any other event first sends the chat held before it, so each
member sees every frame in the order the room made them.
"""

import asyncio
import contextlib
import logging
from typing import Protocol

from django.conf import settings

from realtime.channel_layers import LAYER_LOST
from rooms.batching import PerLoop

logger = logging.getLogger(__name__)


class Member(Protocol):
    """What the hub needs of a connection (rooms.consumers.RoomConsumer)."""

    channel_layer: object

    async def room_event(self, message: dict) -> None: ...

    async def room_chat(self, held: list[dict]) -> None: ...


class RoomHub:
    def __init__(self, group: str) -> None:
        self.group = group
        self.members: set[Member] = set()
        self.chat: list[dict] = []  # chat messages held for the next flush
        self.flush: asyncio.TimerHandle | None = None
        self.reader: asyncio.Task | None = None
        self.sending: asyncio.Task | None = None  # the held chat on its way (kept referenced)
        self.started: asyncio.Future | None = None

    async def start(self, layer) -> None:
        self.layer = layer
        self.channel = await layer.new_channel()
        await layer.group_add(self.group, self.channel)
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.flush is not None:
            self.flush.cancel()
        with contextlib.suppress(Exception):  # Redis may be gone; the group expires then
            await self.layer.group_discard(self.group, self.channel)

    async def _read(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The members' own channels tell them the layer was lost (they close with
                # "try again"); the hub waits for the layer to come back.
                logger.warning("A room hub's channel failed; retrying.", exc_info=True)
                await asyncio.sleep(1)
                continue
            if message.get("type") == LAYER_LOST:
                continue  # each member hears it on its own channel, and closes
            if "author_id" in message and settings.ROOM_CHAT_COALESCE_SECONDS > 0:
                self.chat.append(message)
                if self.flush is None:
                    self.flush = asyncio.get_running_loop().call_later(
                        settings.ROOM_CHAT_COALESCE_SECONDS, self._flush_soon
                    )
                continue
            await self._send_chat()
            await self._to_each(lambda member, message=message: member.room_event(message))

    def _flush_soon(self) -> None:
        self.flush = None
        # The loop keeps only a weak reference to a task: the hub holds this one.
        self.sending = asyncio.get_running_loop().create_task(self._send_chat())

    async def _send_chat(self) -> None:
        if self.flush is not None:
            self.flush.cancel()
            self.flush = None
        held, self.chat = self.chat, []
        if held:
            await self._to_each(lambda member: member.room_chat(held))

    async def _to_each(self, deliver) -> None:
        for member in list(self.members):
            try:
                await deliver(member)
            except Exception:
                # One member's socket (closing, gone) is no reason to skip the others.
                logger.debug("A room event did not reach a member.", exc_info=True)


class RoomHubs(PerLoop):
    """The hubs of one process (one event loop), by room group."""

    def __init__(self) -> None:
        self.hubs: dict[str, RoomHub] = {}

    async def join(self, group: str, member: Member) -> None:
        """From now on `member` gets the room's events (once this returns)."""
        hub = self.hubs.get(group)
        if hub is None:
            hub = self.hubs[group] = RoomHub(group)
            hub.started = asyncio.ensure_future(hub.start(member.channel_layer))
        try:
            await asyncio.shield(hub.started)
        except Exception:
            if self.hubs.get(group) is hub:
                del self.hubs[group]
            raise
        hub.members.add(member)

    async def leave(self, group: str, member: Member) -> None:
        hub = self.hubs.get(group)
        if hub is None:
            return
        hub.members.discard(member)
        if not hub.members:
            del self.hubs[group]
            await hub.stop()

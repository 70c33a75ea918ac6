"""What one server process gathers before it writes: audience joins and leaves, and the
heartbeats of its connections. One of each per event loop (a daphne process has one).

Both keep the database's work per member bounded however busy a room is: a join storm costs
every member one `members.batch` per ROOM_AUDIENCE_BATCH_SECONDS (ROOM_AUDIENCE_BATCH_SECONDS_BIG
in a room past its first page of audience), and pings, however often
clients send them, cost one UPDATE per process and ROOM_PRESENCE_REFRESH_SECONDS.
"""

import asyncio
import weakref
from typing import ClassVar, Self

from channels.db import database_sync_to_async
from django.conf import settings

from rooms.services import presence


class PerLoop:
    """One instance per event loop (a daphne process has one)."""

    _per_loop: ClassVar[weakref.WeakKeyDictionary]

    def __init_subclass__(cls) -> None:
        cls._per_loop = weakref.WeakKeyDictionary()

    @classmethod
    def current(cls) -> Self:
        loop = asyncio.get_running_loop()
        if loop not in cls._per_loop:
            cls._per_loop[loop] = cls()
        return cls._per_loop[loop]


class AudienceBatcher(PerLoop):
    """Coalesces the process's audience joins and leaves, per room, into one `members.batch`
    every ROOM_AUDIENCE_BATCH_SECONDS; in a room whose audience is past its first page, every
    ROOM_AUDIENCE_BATCH_SECONDS_BIG.

    A newcomer past the first page is counted, not listed, so there a batch brings the new
    count and little else; and every member hears every batch, so the interval is what a
    join storm costs each of them, in frames and in the server's work. Server processes
    take turns (`presence.audience_turn`): a room gets one batch per interval, however many
    processes its members came through."""

    def __init__(self) -> None:
        self.pending: dict[str, set[int]] = {}
        self.flushes: dict[str, asyncio.Task] = {}
        # Rooms whose audience was past its first page at their last batch.
        self.big: set[str] = set()

    def touched(self, room_id: str, user_id: int) -> asyncio.Task | None:
        """Notes the change; returns the batch's flush when this change scheduled it."""
        flush = None
        if room_id not in self.pending:
            self.pending[room_id] = set()
            flush = asyncio.get_running_loop().create_task(self._flush_later(room_id))
            self.flushes[room_id] = flush
        self.pending[room_id].add(user_id)
        return flush

    async def write_out(self) -> None:
        """The process stops: every room's batch goes out now, without waiting its turn."""
        for flush in self.flushes.values():
            flush.cancel()
        pending, self.pending, self.flushes = self.pending, {}, {}
        for room_id, user_ids in pending.items():
            await database_sync_to_async(presence.audience_flush)(
                room_id=room_id, user_ids=user_ids
            )

    def interval(self, room_id: str) -> float:
        if room_id in self.big:
            return settings.ROOM_AUDIENCE_BATCH_SECONDS_BIG
        return settings.ROOM_AUDIENCE_BATCH_SECONDS

    async def _flush_later(self, room_id: str) -> None:
        """Sends the room's batch after the interval; when another process sent this
        window's, the people wait with the room's others for the next window."""
        delay = self.interval(room_id)
        while True:
            await asyncio.sleep(delay)
            user_ids = self.pending.pop(room_id)
            turn = await database_sync_to_async(presence.audience_turn)(
                room_id=room_id, user_ids=user_ids, seconds=self.interval(room_id)
            )
            if turn.taken:
                self._note_size(room_id, turn.flushed)
            if not turn.wait or room_id in self.pending:
                if self.flushes.get(room_id) is asyncio.current_task():
                    del self.flushes[room_id]
                return  # all sent, or the flush scheduled since takes over
            self.pending[room_id] = set()
            delay = turn.wait

    def _note_size(self, room_id: str, flushed: presence.Flushed | None) -> None:
        if flushed is not None and flushed.audience_count > settings.ROOM_SNAPSHOT_AUDIENCE_PAGE:
            self.big.add(room_id)
        else:
            self.big.discard(room_id)


async def write_out(**kwargs) -> None:
    """A receiver of realtime.stopping's `stopping`: what this process holds is written now,
    the audience's changes and then the pings (which start the grace of the members its
    sockets closed for a restart)."""
    await AudienceBatcher.current().write_out()
    await PresenceRefresher.current().write()


class PresenceRefresher(PerLoop):
    """Marks the members behind the connections that pinged as seen, all of them in one
    write every ROOM_PRESENCE_REFRESH_SECONDS, rather than one write per ping."""

    def __init__(self) -> None:
        self.heard_from: set[str] = set()
        self.flush: asyncio.Task | None = None

    def heard(self, channel_name: str) -> None:
        self.heard_from.add(channel_name)
        if self.flush is None:
            self.flush = asyncio.get_running_loop().create_task(self._flush_later())

    def forget(self, channel_name: str) -> None:
        self.heard_from.discard(channel_name)

    async def _flush_later(self) -> None:
        await asyncio.sleep(settings.ROOM_PRESENCE_REFRESH_SECONDS)
        await self.write()

    async def write(self) -> None:
        """Writes what was heard now (the pending timed write is then dropped)."""
        channel_names, self.heard_from = self.heard_from, set()
        if self.flush is not None and self.flush is not asyncio.current_task():
            self.flush.cancel()
        self.flush = None
        if channel_names:
            await database_sync_to_async(presence.presence_refresh)(channel_names=channel_names)

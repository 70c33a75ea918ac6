"""A web process told to stop (SIGTERM, as a supervisor or a deploy stops it): every socket
closes with "restarting", what is in flight finishes, and the process exits within
WEB_STOP_SECONDS, saying so; or says what it cut short (realtime/stopping.py)."""

import asyncio
import contextlib
import re
import signal
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction
from django.utils import timezone

from realtime.close_codes import CLOSE_NORMAL, CLOSE_RESTARTING
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.rooms.factories import member
from tests.support.live import LiveSocket, crashes_in, room_path
from tests.support.servers import ServerProcess, session_keys

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

Role = RoomMember.Role

MEMBERS = 200
# Speakers who leave the room as the signal arrives: each leave publishes the room's news
# after its transaction commits, through the event loop, which once hung the process.
LEAVING = 8
STOP_SECONDS = 10


def _stopped(server: ServerProcess, within: float) -> int:
    """The process's exit status; fails when it is still running after `within` seconds."""
    try:
        return server.process.wait(timeout=within)
    except Exception:
        server.kill()
        pytest.fail(f"the server did not exit within {within} s:\n{server.output()}")


def _crowded_room() -> tuple[Room, list[str]]:
    """A live room whose stage is set (speakers muted and not, a raised hand), and its
    members' session keys, host first."""
    host = UserFactory(username="stopping_host")
    room = room_create(host=host, title="Through a stop")
    people = UserFactory.create_batch(MEMBERS - 1)
    for index, person in enumerate(people[:LEAVING]):
        member(room, person, Role.SPEAKER, muted=index % 2 == 0, channel="")
    member(room, people[LEAVING], Role.LISTENER, hand_raised_at=timezone.now(), channel="")
    return room, session_keys([host, *people])


def _places(room: Room) -> dict[int, tuple]:
    """Each member's (role, hand, mute)."""
    return {
        m.user_id: (m.role, m.hand_raised, m.muted) for m in RoomMember.objects.filter(room=room)
    }


async def test_a_stopping_process_closes_every_socket_for_a_restart_and_exits():
    room, keys = await database_sync_to_async(_crowded_room)()
    server = ServerProcess(ROOM_MAX_MEMBERS=MEMBERS + 10, WEB_STOP_SECONDS=STOP_SECONDS).start()
    sockets = [LiveSocket(server, room_path(room), f"sessionid={key}") for key in keys]
    try:
        for start in range(0, MEMBERS, 50):
            await asyncio.gather(*(s.open(wait=120) for s in sockets[start : start + 50]))
        assert {s.first["type"] for s in sockets} == {"room.snapshot"}
        before = await database_sync_to_async(_places)(room)
        assert len(before) == MEMBERS
        leavers, staying = sockets[1 : 1 + LEAVING], [sockets[0], *sockets[1 + LEAVING :]]
        await asyncio.gather(*(s.send("room.leave") for s in leavers))
        server.process.send_signal(signal.SIGTERM)
        closed = await asyncio.gather(*(s.until_closed(wait=30) for s in sockets))
        status = await asyncio.to_thread(_stopped, server, STOP_SECONDS + 5)
    finally:
        for socket in sockets:
            with contextlib.suppress(Exception):
                await socket.ws.close()
        server.stop()
    output = server.output()
    codes = [code for _, code in closed]
    assert codes[:1] + codes[1 + LEAVING :] == [CLOSE_RESTARTING] * len(staying), output
    # A leave the signal caught in flight finished; its socket closed either way.
    assert set(codes[1 : 1 + LEAVING]) <= {CLOSE_NORMAL, CLOSE_RESTARTING}, output
    assert status == 0, output
    said = re.search(
        r"Stopped in [\d.]+ s: (\d+) socket\(s\) closed for a restart, nothing cut short", output
    )
    assert said, output
    assert len(staying) <= int(said[1]) <= len(sockets)
    assert not crashes_in(output), output
    # Everyone closed for the restart keeps their place to come back to; the leavers left.
    after = await database_sync_to_async(_places)(room)
    left = set(before) - set(after)
    assert len(left) == LEAVING
    assert after == {user_id: place for user_id, place in before.items() if user_id not in left}
    assert all(before[user_id][0] == Role.SPEAKER for user_id in left)


class RoomLocked:
    """The room's row locked by a transaction of this test's, in a thread of its own, for
    the `with` block: a join into it waits."""

    def __init__(self, room: Room):
        self.room = room
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(30)
        return self

    def __exit__(self, *exc_info):
        self.release.set()
        self.thread.join(30)

    def _hold(self):
        try:
            with transaction.atomic():
                Room.objects.select_for_update().get(pk=self.room.pk)
                self.locked.set()
                self.release.wait(60)
        finally:
            connection.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (Postgres)")
async def test_a_stop_that_cannot_finish_says_what_it_cut_short_and_exits_in_time():
    def setting():
        host = UserFactory(username="stuck_host")
        room = room_create(host=host, title="Stuck")
        return room, session_keys([host, UserFactory(username="stuck_guest")])

    room, (host_key, guest_key) = await database_sync_to_async(setting)()
    server = ServerProcess(WEB_STOP_SECONDS=2).start()
    try:
        host = await LiveSocket(server, room_path(room), f"sessionid={host_key}").open()
        with RoomLocked(room):
            # The guest's join waits for the room's lock in the server's database thread.
            guest = LiveSocket(server, room_path(room), f"sessionid={guest_key}")
            joining = asyncio.ensure_future(guest.open(wait=30))
            await asyncio.sleep(0.5)
            server.process.send_signal(signal.SIGTERM)
            status = await asyncio.to_thread(_stopped, server, 10)
        joining.cancel()
        with contextlib.suppress(BaseException):
            await joining
        assert (await host.until_closed())[1] == CLOSE_RESTARTING
    finally:
        server.stop()
    output = server.output()
    assert status == 1, output
    assert "Stopping took longer than WEB_STOP_SECONDS (2.0 s)" in output, output
    # What was cut short: the guest's socket (the host's waits behind it for the database
    # thread to close it), and every thread's stack, the database thread's in the join.
    assert f"sockets still open: {room_path(room)} (2)" in output, output
    assert "in room_join" in output, output

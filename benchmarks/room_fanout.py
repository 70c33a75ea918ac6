"""Room fan-out benchmark: real WebSocket clients against a real server (not a test).

One moderator connects, then M listeners join at a given rate, then the moderator makes
stage events (mute on/off). Prints, for each M: join-to-snapshot p50/p99, the time for a
stage event to reach every member p50/p99, frames each member received while the audience
was joining and in all, and the server's CPU seconds — next to the same run against a
minimal broadcast server written with the `websockets` library (the floor), as ratios.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/roundtable \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/room_fanout.py

(`make bench-rooms` runs exactly that.) It builds its own throw-away database next to
DATABASE_URL's, so it never touches your data.
"""

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The server runs with DEBUG off, which refuses a weak key; the sessions are signed with it.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.conf import settings
from django.db import connection
from websockets.asyncio.client import connect

from accounts.models import User
from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.support.servers import (
    ServerProcess,
    benchmark_database,
    cpu_seconds,
    free_port,
    percentile,
    session_keys,
)

# --- the floor: a minimal broadcast server speaking the same frames -----------------------

FLOOR_SERVER = r"""
import asyncio, json, sys
from websockets.asyncio.server import serve, broadcast

members, pending, seq = set(), [], 0

async def flush_later():
    global seq
    await asyncio.sleep(0.5)
    seq += 1
    joined, pending[:] = list(pending), []
    broadcast(members, json.dumps({"type": "members.batch", "seq": seq, "joined": joined, "left": []}))

async def handler(ws):
    global seq
    uid = int(ws.request.path.rsplit("/", 1)[1])
    members.add(ws)
    await ws.send(json.dumps({"type": "room.snapshot", "seq": seq, "members": []}))
    if not pending:
        asyncio.get_running_loop().create_task(flush_later())
    pending.append({"user": {"id": uid}, "role": "listener"})
    try:
        async for text in ws:
            frame = json.loads(text)
            if frame["type"] == "ping":
                await ws.send('{"type":"pong"}')
            elif frame["type"] == "chat.send":
                broadcast(members, json.dumps({"type": "chat.message",
                    "message": {"author": {"id": uid}, "text": frame["text"]}}))
            elif frame["type"] == "mute.set":
                seq += 1
                broadcast(members, json.dumps({"type": "member.updated", "seq": seq,
                    "member": {"user": {"id": uid}, "muted": frame["muted"]}}))
    finally:
        members.discard(ws)

async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), max_size=2**16):
        await asyncio.Future()

asyncio.run(main())
"""


class FloorServer:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER, str(self.port)])
        time.sleep(1)

    def url(self, room_id, user_id):
        return f"ws://127.0.0.1:{self.port}/room/{user_id}"

    def headers(self, user_id):
        return {}

    def stop(self):
        self.process.terminate()
        self.process.wait()


# --- Roundtable ------------------------------------------------------------------------


class RoundtableServer:
    def __init__(self, cookies):
        self.cookies = cookies
        # Production mode: no query log, no debug toolbar of any kind.
        self.server = ServerProcess(
            DEBUG=0,
            SECRET_KEY=settings.SECRET_KEY,  # the sessions were signed with it
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT=0,
            SECURE_COOKIES=0,
            SECURE_HSTS_SECONDS=0,
            ROOM_MAX_MEMBERS=100_000,
            LOG_LEVEL="WARNING",
        ).start()
        self.process = self.server.process
        self.port = self.server.port

    def url(self, room_id, user_id):
        return f"{self.server.ws_url}/ws/rooms/{room_id}/"

    def headers(self, user_id):
        return {"Cookie": f"sessionid={self.cookies[user_id]}", "Origin": self.server.url}

    def stop(self):
        self.server.stop()


# --- the clients -----------------------------------------------------------------------


class Client:
    def __init__(self, server, room_id, user_id):
        self.server, self.room_id, self.user_id = server, room_id, user_id
        self.frames = 0
        self.join_frames = 0
        self.seen = {}  # seq -> arrival time
        self.arrivals = {}  # seq -> event set on arrival

    def arrived(self, seq) -> asyncio.Event:
        return self.arrivals.setdefault(seq, asyncio.Event())

    async def run(self, joined: asyncio.Event, done: asyncio.Event):
        started = time.perf_counter()
        async with connect(
            self.server.url(self.room_id, self.user_id),
            additional_headers=self.server.headers(self.user_id),
            max_size=2**20,
            open_timeout=60,
            ping_interval=None,  # the protocol's own ping below keeps the member alive
        ) as ws:
            first = json.loads(await ws.recv())
            assert first["type"] == "room.snapshot", first
            self.join_latency = time.perf_counter() - started
            joined.set()
            helpers = [asyncio.create_task(self._ping(ws)), asyncio.create_task(self._read(ws))]
            try:
                await done.wait()
            finally:
                for helper in helpers:
                    helper.cancel()

    async def _read(self, ws):
        async for text in ws:
            frame = json.loads(text)
            self.frames += 1
            if frame["type"] == "members.batch":
                self.join_frames += 1
            if frame["type"] == "member.updated":
                self.seen[frame["seq"]] = time.perf_counter()
                self.arrived(frame["seq"]).set()

    @staticmethod
    async def _ping(ws):
        while True:
            await asyncio.sleep(15)
            await ws.send('{"type":"ping"}')


async def audience_joins(clients, rate, done: asyncio.Event) -> list[asyncio.Task]:
    """Starts the clients `1 / rate` seconds apart and returns their tasks once every one
    has its snapshot (a client that failed to join raises here)."""
    tasks, joined = [], []
    for client in clients:
        joined.append(asyncio.Event())
        tasks.append(asyncio.create_task(client.run(joined[-1], done)))
        await asyncio.sleep(1 / rate)
    for task, event in zip(tasks, joined, strict=True):
        waiter = asyncio.create_task(event.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED, timeout=600)
        if task.done():
            task.result()
        waiter.cancel()
    return tasks


async def stage_events(moderator, clients, events: int) -> list[float]:
    """The moderator mutes and unmutes `events` times; how long each took to reach every
    client."""
    reach = []
    for n in range(events):
        sent = time.perf_counter()
        # Members join muted, so the first event unmutes.
        await moderator.send(json.dumps({"type": "mute.set", "muted": n % 2 == 1}))
        seq = None
        while seq is None:
            frame = json.loads(await moderator.recv())
            if frame["type"] == "error":
                raise RuntimeError(f"the server refused a stage event: {frame}")
            if frame["type"] == "member.updated":
                seq = frame["seq"]
        await asyncio.wait_for(
            asyncio.gather(*(c.arrived(seq).wait() for c in clients)), timeout=120
        )
        reach.append(max(c.seen[seq] for c in clients) - sent)
    return reach


async def drive(server, *, room_id, moderator_id, listener_ids, rate, events):
    done = asyncio.Event()
    cpu_before = cpu_seconds(server.process.pid)
    # The moderator reads nothing while the audience joins: its frames wait in an unbounded
    # queue, and the protocol's own ping keeps it alive.
    async with connect(
        server.url(room_id, moderator_id),
        additional_headers=server.headers(moderator_id),
        ping_interval=None,
        max_queue=None,
    ) as moderator:
        snapshot = json.loads(await moderator.recv())
        assert snapshot["type"] == "room.snapshot", snapshot
        keepalive = asyncio.create_task(Client._ping(moderator))
        clients = [Client(server, room_id, uid) for uid in listener_ids]
        tasks = await audience_joins(clients, rate, done)
        await asyncio.sleep(1.5)  # the last audience batch
        join_frames = [c.join_frames for c in clients]
        reach = await stage_events(moderator, clients, events)
        done.set()
        keepalive.cancel()
        await asyncio.gather(*tasks)
    cpu = cpu_seconds(server.process.pid) - cpu_before
    joins = [c.join_latency for c in clients]
    return {
        "join_p50": percentile(joins, 50),
        "join_p99": percentile(joins, 99),
        "event_p50": percentile(reach, 50),
        "event_p99": percentile(reach, 99),
        "join_frames": statistics.mean(join_frames),
        "frames": statistics.mean(c.frames for c in clients),
        "cpu": cpu,
    }


def prepare(m: int):
    """A room, a moderator and M listeners with sessions, in the benchmark database."""
    Room.objects.all().delete()
    User.objects.all().delete()
    User.objects.bulk_create(User(username=f"bench{i}") for i in range(m + 1))
    users = list(User.objects.order_by("pk"))
    cookies = {user.pk: key for user, key in zip(users, session_keys(users), strict=True)}
    room = room_create(host=users[0], title="Fan-out benchmark")
    return room, users[0].pk, [u.pk for u in users[1:]], cookies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument(
        "--rate",
        type=float,
        default=20,
        help="listener joins per second (one server process takes 25-40 a second)",
    )
    parser.add_argument("--events", type=int, default=20, help="stage events per run")
    args = parser.parse_args()

    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL (and DATABASE_URL for Postgres): the benchmark uses Redis.")
    rows = []
    with benchmark_database():
        for m in args.listeners:
            room, moderator_id, listener_ids, cookies = prepare(m)
            run = {
                "room_id": room.pk,
                "moderator_id": moderator_id,
                "listener_ids": listener_ids,
                "rate": args.rate,
                "events": args.events,
            }
            ours = RoundtableServer(cookies)
            try:
                mine = asyncio.run(drive(ours, **run))
            finally:
                ours.stop()
            connection.close()
            floor_server = FloorServer()
            try:
                floor = asyncio.run(drive(floor_server, **run))
            finally:
                floor_server.stop()
            rows.append((m, mine, floor))
            report(rows[-1:], args)
    print("\nAll runs:")
    report(rows, args)


def _with_floor(mine, floor, key, scale=1000, unit="ms"):
    ratio = mine[key] / floor[key] if floor[key] else float("inf")
    return f"{mine[key] * scale:.0f} {unit} ({floor[key] * scale:.0f}, x{ratio:.1f})"


def report(rows, args):
    print(f"\nrate {args.rate:g} joins/s, {args.events} stage events; ours (floor, ratio)")
    print(
        "| M | join to snapshot p50 | p99 | event to all p50 | p99 "
        "| batch frames per member | frames per member | server CPU |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for m, mine, floor in rows:
        print(
            f"| {m} | {_with_floor(mine, floor, 'join_p50')} | {_with_floor(mine, floor, 'join_p99')} "
            f"| {_with_floor(mine, floor, 'event_p50')} | {_with_floor(mine, floor, 'event_p99')} "
            f"| {mine['join_frames']:.1f} ({floor['join_frames']:.1f}) "
            f"| {mine['frames']:.1f} ({floor['frames']:.1f}) "
            f"| {_with_floor(mine, floor, 'cpu', scale=1, unit='s')} |"
        )


if __name__ == "__main__":
    main()

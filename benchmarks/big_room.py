"""Big-room benchmark: the scenario end to end, on Postgres and Redis (not a test).

1. A host with F followers (O of them online on notification sockets) starts a room: the
   notification rows written against one COPY of the same rows, and how long until every
   online follower's socket got its push (notify_fanout.py does this part).
2. M listeners join that room at R a second across two server processes sharing it through
   Redis: join-to-snapshot p50/p99, a stage event's reach p50/p99 against a minimal
   `websockets` broadcast server (the floor, one process), frames per member during the join
   storm, the servers' CPU per join, presence rows written a second while the room listens,
   and the servers' memory per 1,000 members.
3. A chat storm in the full room: C messages a second from rotating listeners for S seconds;
   how long until a message reached every member, p50/p99, against the floor.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/roundtable \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/big_room.py

(`make bench-bigroom` runs exactly that.) The clients run on the same machine as the servers,
so on a small machine they take a good share of its cores.
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
import time

# Its servers run with DEBUG off, which refuses a weak key; the sessions are signed with it.
# Set before the other benchmarks' modules set Django up.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from notify_fanout import _run_size, in_thread
from room_fanout import (
    Client,
    FloorServer,
    RoundtableServer,
    audience_joins,
    prepare,
    stage_events,
)
from websockets.asyncio.client import connect

from config.celery import app as celery_app
from tests.support.servers import (
    ServerProcess,
    WorkerProcess,
    benchmark_database,
    cpu_seconds,
    percentile,
)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def presence_rows_written() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'rooms_roommember'"
        )
        return cursor.fetchone()[0]


class Listener(Client):
    """A member that also notes when each chat message (by its text) arrived."""

    def __init__(self, *args):
        super().__init__(*args)
        self.chat = {}
        self.chat_expected = None
        self.chat_all = asyncio.Event()

    async def _read(self, ws):
        self.ws = ws
        async for text in ws:
            frame = json.loads(text)
            self.frames += 1
            kind = frame["type"]
            if kind == "members.batch":
                self.join_frames += 1
            elif kind == "member.updated":
                self.seen[frame["seq"]] = time.perf_counter()
                self.arrived(frame["seq"]).set()
            elif kind == "chat.message":
                self.chat[frame["message"]["text"]] = time.perf_counter()
                if len(self.chat) == self.chat_expected:
                    self.chat_all.set()


async def room_storm(
    servers, *, room_id, moderator_id, listener_ids, rate, events, chat_rate, chat_seconds
):
    done = asyncio.Event()
    pids = [s.process.pid for s in servers]
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    rss_before = sum(rss_bytes(pid) for pid in pids)
    host = servers[0]
    async with connect(
        host.url(room_id, moderator_id),
        additional_headers=host.headers(moderator_id),
        ping_interval=None,
        max_queue=None,
    ) as moderator:
        assert json.loads(await moderator.recv())["type"] == "room.snapshot"
        keepalive = asyncio.create_task(Client._ping(moderator))
        clients = [
            Listener(servers[n % len(servers)], room_id, uid) for n, uid in enumerate(listener_ids)
        ]
        tasks = await audience_joins(clients, rate, done)
        await asyncio.sleep(1.5)  # the last audience batch
        cpu_joins = sum(cpu_seconds(pid) for pid in pids) - cpu_before
        rss = sum(rss_bytes(pid) for pid in pids) - rss_before
        join_frames = [c.join_frames for c in clients]
        reach = await stage_events(moderator, clients, events)
        chat = await chat_storm(clients, chat_rate, chat_seconds)
        done.set()
        keepalive.cancel()
        await asyncio.gather(*tasks)
    joins = [c.join_latency for c in clients]
    return {
        "join_p50": percentile(joins, 50),
        "join_p99": percentile(joins, 99),
        "event_p50": percentile(reach, 50),
        "event_p99": percentile(reach, 99),
        "chat_p50": percentile(chat, 50),
        "chat_p99": percentile(chat, 99),
        "join_frames": sum(join_frames) / len(join_frames),
        "cpu_per_join": cpu_joins / len(clients),
        "rss_per_1000": rss / len(clients) * 1000,
    }


async def chat_storm(clients, rate, seconds) -> list[float]:
    """Each message from the next listener, so no one trips their budget; returns how long
    each took to reach every member."""
    count = int(rate * seconds)
    for client in clients:
        client.chat_expected = count
    sent_at = {}
    for n in range(count):
        text = f"storm {n}"
        sender = clients[(n * 7) % len(clients)]
        sent_at[text] = time.perf_counter()
        await sender.ws.send(json.dumps({"type": "chat.send", "text": text}))
        await asyncio.sleep(1 / rate)
    await asyncio.wait_for(asyncio.gather(*(c.chat_all.wait() for c in clients)), timeout=120)
    return [max(c.chat[t] for c in clients) - sent_at[t] for t in sent_at]


def presence_rate(servers, seconds: float) -> float:
    """Rows of members marked seen a second while the room listens (the pings' writes)."""
    before = presence_rows_written()
    time.sleep(seconds)
    connection.close()  # the statistics of a new transaction
    return (presence_rows_written() - before) / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--online", type=int, default=1000)
    parser.add_argument("--listeners", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100, help="listener joins a second")
    parser.add_argument("--events", type=int, default=10, help="stage events")
    parser.add_argument("--chat-rate", type=float, default=20, help="chat messages a second")
    parser.add_argument("--chat-seconds", type=float, default=10)
    args = parser.parse_args()
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL (Postgres) and REDIS_URL: this is the team's layout.")

    with benchmark_database():
        # 1. The room starts and its followers hear of it.
        celery_app.conf.task_always_eager = False
        server, worker = ServerProcess().start(), WorkerProcess().start()
        try:
            fanout = asyncio.run(
                _run_size(server, args.followers, args.online, make_password("bench"), 600)
            )
        except Exception:
            print(server.output()[-3000:], file=sys.stderr)
            raise
        finally:
            worker.stop()
            server.stop()
        # 2 and 3. The audience comes in, the stage speaks, the chat storms.
        room, moderator_id, listener_ids, cookies = prepare(args.listeners)
        run = {
            "room_id": room.pk,
            "moderator_id": moderator_id,
            "listener_ids": listener_ids,
            "rate": args.rate,
            "events": args.events,
            "chat_rate": args.chat_rate,
            "chat_seconds": args.chat_seconds,
        }
        servers = [RoundtableServer(cookies) for _ in range(2)]
        try:
            ours = asyncio.run(room_storm(servers, **run))
        finally:
            for s in servers:
                s.stop()
        connection.close()
        floor_server = FloorServer()
        try:
            floor = asyncio.run(room_storm([floor_server], **run))
        finally:
            floor_server.stop()
        # Presence: a room of listeners that ping, on the servers' own schedule.
        room, moderator_id, listener_ids, cookies = prepare(args.listeners)
        servers = [RoundtableServer(cookies) for _ in range(2)]
        try:
            writes = asyncio.run(listening(servers, room.pk, listener_ids, args.rate))
        finally:
            for s in servers:
                s.stop()
    report(args, fanout, ours, floor, writes)


async def listening(servers, room_id, listener_ids, rate) -> float:
    """Presence rows written a second over two refresh periods of a full, pinging room."""
    done = asyncio.Event()
    clients = [
        Listener(servers[n % len(servers)], room_id, uid) for n, uid in enumerate(listener_ids)
    ]
    tasks = await audience_joins(clients, rate, done)
    window = 2 * settings.ROOM_PRESENCE_REFRESH_SECONDS
    rate_written = await in_thread(presence_rate, servers, window)
    done.set()
    await asyncio.gather(*tasks)
    return rate_written


def _vs(mine, floor, key):
    ratio = mine[key] / floor[key] if floor[key] else float("inf")
    return f"{mine[key] * 1000:.0f} ms ({floor[key] * 1000:.0f} ms, x{ratio:.1f})"


def report(args, fanout, ours, floor, writes):
    print(
        f"\n1. A host with {fanout['followers']:,} followers ({fanout['online']:,} online) starts a room"
    )
    print(
        f"   notification rows: {fanout['rows']:.2f} s; one COPY of them into a copy of the "
        f"table {fanout['floor']:.2f} s (x{fanout['ratio']:.1f}); without its foreign key "
        f"{fanout['bare_floor']:.2f} s"
    )
    print(
        f"   online followers pushed: first {fanout['first_push']:.2f} s, median "
        f"{fanout['median_push']:.2f} s, all {fanout['all_pushed']:.2f} s"
    )
    print(
        f"\n2. {args.listeners:,} listeners at {args.rate:g}/s across 2 server processes; ours (floor, ratio)"
    )
    print(
        f"   join to snapshot p50 {_vs(ours, floor, 'join_p50')}, p99 {_vs(ours, floor, 'join_p99')}"
    )
    print(
        f"   stage event to all p50 {_vs(ours, floor, 'event_p50')}, p99 {_vs(ours, floor, 'event_p99')}"
    )
    print(
        f"   members.batch frames per member during the storm: {ours['join_frames']:.1f} "
        f"({floor['join_frames']:.1f})"
    )
    print(
        f"   server CPU per join: {ours['cpu_per_join'] * 1000:.1f} ms "
        f"({floor['cpu_per_join'] * 1000:.2f} ms)"
    )
    print(
        f"   server memory per 1,000 members: {ours['rss_per_1000'] / 2**20:.0f} MiB "
        f"({floor['rss_per_1000'] / 2**20:.0f} MiB)"
    )
    print(f"   presence rows written a second, full room pinging: {writes:.0f}")
    print(f"\n3. Chat storm, {args.chat_rate:g} messages/s for {args.chat_seconds:g} s")
    print(
        f"   message to every member p50 {_vs(ours, floor, 'chat_p50')}, p99 {_vs(ours, floor, 'chat_p99')}"
    )


if __name__ == "__main__":
    main()

"""Fan-out benchmark: a host with N followers, some of them online on sockets, starts a room.

Runs the real thing: a daphne process serving the sockets, Celery worker processes as
`make run` starts them, and the room started through the service. It prints, per size, the
time until every notification row exists and until every online follower's socket got its
`notification.created`, next to the floor: the same rows inserted by one COPY (Postgres;
one executemany in one transaction on SQLite) into a copy of the notifications table, its
foreign key included, in the same run, as a ratio.

It works in a throwaway database of its own (bench_<name>) and deletes it at the end.
On Postgres and Redis:

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/roundtable \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/notify_fanout.py

Without them it runs on the embedded defaults (SQLite, file-system broker and relay).
"""

import argparse
import asyncio
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

from accounts.models import User
from config.celery import app as celery_app
from follows.models import Follow
from notifications.models import Notification
from rooms.services.lifecycle import room_create
from tests.support.servers import ServerProcess, WorkerProcess, benchmark_database, session_keys

BATCH = 5000


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def in_thread(function, *args, **kwargs):
    """Database work off the event loop, closing the thread's connection after."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)


COLUMNS = "recipient_id, kind, subject, actor_id, room_id, club_id, created"


def _people(prefix: str, n: int, password: str) -> list[User]:
    users = []
    for start in range(0, n, BATCH):
        users += User.objects.bulk_create(
            [
                User(username=f"{prefix}{i}", password=password)
                for i in range(start, min(n, start + BATCH))
            ]
        )
    return users


async def _open_socket(server: ServerProcess, key: str, tries: int = 5):
    """One signed-in socket; a handshake the busy server dropped is tried again."""
    for attempt in range(tries):
        try:
            ws = await connect(
                f"{server.ws_url}/ws/notifications/",
                origin=server.url,
                additional_headers={"Cookie": f"sessionid={key}"},
                open_timeout=60,
            )
        except (OSError, InvalidHandshake, TimeoutError):
            if attempt == tries - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
            continue
        first = await ws.recv()
        if '"unread.count"' not in first:
            raise RuntimeError(f"a socket was refused: {first}")
        return ws
    raise AssertionError("unreachable")


async def _open_sockets(server: ServerProcess, keys: list[str]) -> list:
    sockets = []
    for start in range(0, len(keys), 20):
        batch = keys[start : start + 20]
        sockets += await asyncio.gather(*(_open_socket(server, key) for key in batch))
    return sockets


async def _pushed_at(ws) -> float:
    while True:
        frame = await ws.recv()
        if '"notification.created"' in frame:
            return time.perf_counter()


def _rows_written(room, expected: int, started: float, timeout: float) -> float:
    while time.perf_counter() - started < timeout:
        if Notification.objects.filter(room=room).count() >= expected:
            return time.perf_counter()
        time.sleep(0.05)
    raise RuntimeError(f"only {Notification.objects.filter(room=room).count()} of {expected} rows")


def _copy_seconds(cursor, values) -> float:
    cursor.execute("TRUNCATE bench_floor")
    started = time.perf_counter()
    with transaction.atomic(), cursor.copy(f"COPY bench_floor ({COLUMNS}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    return time.perf_counter() - started


def _floor(room, recipient_ids: list[int]) -> tuple[float, float | None]:
    """The same rows written by one COPY (or one executemany on SQLite) into a copy of the
    notifications table: its indexes and constraints, and its foreign key (the check the
    database makes of each row's recipient, at commit). On Postgres, the second figure is
    the COPY into the same table without the foreign key."""
    now = timezone.now()
    subject = f"room:{room.pk}"
    values = [
        (r, "room_started", subject, room.host_id, room.pk.hex, None, now) for r in recipient_ids
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS bench_floor")
            cursor.execute(
                "CREATE TABLE bench_floor (LIKE notifications_notification INCLUDING ALL)"
            )
            bare = _copy_seconds(cursor, values)
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'notifications_notification'::regclass AND contype = 'f'"
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE bench_floor ADD {definition}")
            checked = _copy_seconds(cursor, values)
            cursor.execute("DROP TABLE bench_floor")  # it holds the people it points at
            return checked, bare
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(
            "CREATE TABLE bench_floor AS SELECT * FROM notifications_notification WHERE 0"
        )
        cursor.execute(
            "CREATE UNIQUE INDEX bench_floor_once ON bench_floor (recipient_id, kind, subject)"
        )
        cursor.execute(
            "CREATE INDEX bench_floor_inbox ON bench_floor (recipient_id, created DESC, id DESC)"
        )
        started = time.perf_counter()
        with transaction.atomic():
            cursor.executemany(
                "INSERT INTO bench_floor"
                " (recipient_id, kind, subject, actor_id, room_id, club_id, created)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                values,
            )
        return time.perf_counter() - started, None


async def _run_size(
    server: ServerProcess, followers: int, online: int, password: str, push_timeout: float
) -> dict:
    tag = uuid.uuid4().hex[:6]
    host = await in_thread(lambda: User.objects.create(username=f"host{tag}", password=password))
    people = await in_thread(_people, f"f{tag}_", followers, password)
    await in_thread(
        lambda: Follow.objects.bulk_create(
            (Follow(follower=p, followee=host) for p in people), batch_size=BATCH
        )
    )
    keys = await in_thread(session_keys, people[:online])
    say(f"{followers:,} followers ready; opening {online:,} sockets")
    sockets = await _open_sockets(server, keys)
    say("sockets open; starting the room")
    try:
        waiting = [asyncio.create_task(_pushed_at(ws)) for ws in sockets]
        started = time.perf_counter()
        room = await in_thread(room_create, host=host, title=f"Bench {followers}")
        rows_done = await in_thread(_rows_written, room, followers, started, 1800)
        say(f"rows written after {rows_done - started:.2f} s; waiting for the pushes")
        done, pending = await asyncio.wait(waiting, timeout=push_timeout)
        if pending:
            raise RuntimeError(f"{len(pending)} of {len(waiting)} sockets got no push")
        pushes = [task.result() for task in done]
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    floor, bare_floor = await in_thread(_floor, room, [p.pk for p in people])
    rows_seconds = rows_done - started
    return {
        "followers": followers,
        "online": online,
        "rows": rows_seconds,
        "first_push": min(pushes) - started,
        "median_push": statistics.median(pushes) - started,
        "all_pushed": max(pushes) - started,
        "floor": floor,
        "bare_floor": bare_floor,
        "ratio": rows_seconds / floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--online", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument(
        "--push-timeout", type=float, default=600, help="seconds to wait for every push"
    )
    args = parser.parse_args()

    with benchmark_database():
        celery_app.conf.task_always_eager = False
        password = make_password("bench-password")
        server = ServerProcess().start()
        workers = [WorkerProcess().start() for _ in range(args.workers)]
        mode = (
            f"{connection.vendor}, {'Redis' if settings.REDIS_URL else 'embedded broker and relay'}"
        )
        results = []
        try:
            for size in args.followers:
                results.append(
                    asyncio.run(
                        _run_size(server, size, min(args.online, size), password, args.push_timeout)
                    )
                )
        except Exception:
            for process in (*workers, server):
                say(process.output()[-3000:])
            raise
        finally:
            for worker in workers:
                worker.stop()
            server.stop()

    floor_name = "one COPY" if connection.vendor == "postgresql" else "one executemany"
    out = io.StringIO()
    out.write(
        f"\nFan-out of 'room started' ({mode}; {args.workers} worker(s), chunks of {settings.NOTIFY_CHUNK_SIZE})\n\n"
    )
    out.write(
        f"| followers | online | all rows written | first push | median push | all online pushed | floor ({floor_name}) | rows ÷ floor | {floor_name}, no foreign key |\n"
    )
    out.write("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    for r in results:
        bare = "-" if r["bare_floor"] is None else f"{r['bare_floor']:.2f} s"
        out.write(
            f"| {r['followers']:,} | {r['online']:,} | {r['rows']:.2f} s | {r['first_push']:.2f} s | "
            f"{r['median_push']:.2f} s | {r['all_pushed']:.2f} s | {r['floor']:.2f} s | {r['ratio']:.1f} x | {bare} |\n"
        )
    print(out.getvalue())


if __name__ == "__main__":
    main()

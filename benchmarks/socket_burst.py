"""Socket burst benchmark: N room sockets opened at once through the production layout (not
a test).

nginx in front of WEB_PROCESSES daphne processes under supervisord, started as
`make serve-prod` runs them, on Postgres and Redis; N people open one room's socket in the
same instant. Prints how many got their snapshot and how every other one ended (close codes,
errors), open-to-snapshot p50/p99/max, the most Redis connections open at once, and whether
any server logged an exception (a Redis pool that runs out logs "Too many connections" and
closes the socket with 1011).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/roundtable \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/socket_burst.py

(`make bench-burst` runs exactly that; BURST_LOG=<file> keeps what nginx and the servers
printed.) It builds its own throw-away database next to
DATABASE_URL's, so it never touches your data.
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import redis
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.models import User
from rooms.services.lifecycle import room_create
from tests.support.live import crashes_in
from tests.support.servers import ProductionLayout, benchmark_database, percentile, session_keys


class RedisClients:
    """Samples Redis's connected_clients while the burst runs: the peak is what the pools
    took (other clients of the same Redis count too)."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)
        self.peak = 0
        self.baseline = self._count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _count(self) -> int:
        return self.client.info("clients")["connected_clients"]

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._count())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


async def _open(url: str, origin: str, cookie: str, wait: float) -> tuple[str, float]:
    """How one socket ended ("snapshot" or why not) and the seconds it took."""
    started = time.monotonic()
    try:
        async with connect(
            url,
            origin=origin,
            additional_headers={"Cookie": cookie},
            open_timeout=wait,
            ping_interval=None,
            max_size=None,
        ) as ws:
            frame = json.loads(await asyncio.wait_for(ws.recv(), wait))
            return frame["type"], time.monotonic() - started
    except ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else None}", time.monotonic() - started
    except InvalidStatus as refused:
        return f"HTTP {refused.response.status_code}", time.monotonic() - started
    except (OSError, TimeoutError) as error:
        return type(error).__name__, time.monotonic() - started


async def burst(layout, room, keys, wait: float) -> list[tuple[str, float]]:
    url = f"{layout.ws_url}/ws/rooms/{room.pk}/"
    gate = asyncio.Event()

    async def one(key):
        await gate.wait()
        return await _open(url, layout.url, f"sessionid={key}", wait)

    tasks = [asyncio.create_task(one(key)) for key in keys]
    await asyncio.sleep(0)
    gate.set()
    return await asyncio.gather(*tasks)


def run(sockets: int, web_processes: int, wait: float) -> None:
    users = User.objects.bulk_create(User(username=f"burst{index}") for index in range(sockets + 1))
    room = room_create(host=users[0], title="Everyone at once")
    keys = session_keys(users[1:])
    with tempfile.TemporaryDirectory() as folder:
        layout = ProductionLayout(
            Path(folder),
            web_processes=web_processes,
            ROOM_MAX_MEMBERS=sockets + 10,
            SOCKET_OPENS_PER_MINUTE=5,
            SERVE_INSECURE=1,
            PUSH_ALLOW_LOOPBACK=0,
        ).start()
        try:
            with RedisClients(settings.REDIS_URL) as clients:
                started = time.monotonic()
                results = asyncio.run(burst(layout, room, keys, wait))
                took = time.monotonic() - started
        finally:
            layout.stop()
        outcomes = Counter(outcome for outcome, _ in results)
        times = [seconds for outcome, seconds in results if outcome == "room.snapshot"]
        crashes = crashes_in(layout.output())
        if os.environ.get("BURST_LOG"):
            Path(os.environ["BURST_LOG"]).write_text(layout.output())
        too_many = layout.output().count("Too many connections")

    print(
        f"{sockets} sockets at once through nginx, {web_processes} web processes, "
        f"Redis pool {settings.REDIS_POOL_SIZE} a process "
        f"(wait {settings.REDIS_POOL_TIMEOUT_SECONDS:g} s)"
    )
    print(f"  got their snapshot: {outcomes['room.snapshot']} of {sockets} in {took:.1f} s")
    for outcome, count in sorted(outcomes.items()):
        if outcome != "room.snapshot":
            print(f"  {outcome}: {count}")
    if times:
        print(
            f"  open to snapshot: p50 {percentile(times, 50):.2f} s, "
            f"p99 {percentile(times, 99):.2f} s, max {max(times):.2f} s"
        )
    print(f"  Redis connections: peak {clients.peak} (before: {clients.baseline})")
    print(f"  server log: {len(crashes)} exception lines, {too_many} 'Too many connections'")
    for line in crashes[:5]:
        print(f"    {line}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument(
        "--wait", type=float, default=120, help="seconds a socket waits for its snapshot"
    )
    args = parser.parse_args()
    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL: several web processes share a room through Redis only.")
    with benchmark_database(), contextlib.suppress(KeyboardInterrupt):
        run(args.sockets, args.web_processes, args.wait)


if __name__ == "__main__":
    main()

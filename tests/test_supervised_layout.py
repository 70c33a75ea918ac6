"""The production layout under its supervisor, as `make serve-prod` runs it: a rolling restart
of the web processes drops nobody's place, a process killed with SIGKILL is started again
while the others serve, and a stop leaves nothing running."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from config.celery import app as celery_app
from deploy.supervisor import CRASHES_BEFORE_GIVING_UP, Watcher
from follows.models import Follow
from notifications.models import Notification
from realtime.close_codes import CLOSE_RESTARTING
from rooms.models import RoomMember
from rooms.protocol import ROOM
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.rooms.factories import member
from tests.support.contract import check_frame
from tests.support.helpers import turn_allocation
from tests.support.live import crashes_in, room_path
from tests.support.netns import Namespace, run_inside
from tests.support.peers import RoomClient
from tests.support.servers import (
    ROOT,
    ProductionLayout,
    listening,
    production_layout_or_skip,
    session_keys,
)
from tests.support.stack import media_stack_or_skip

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

Role = RoomMember.Role

production_layout_or_skip()
needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="several web processes share rooms through Redis only"
)

# The layout's processes run with the tests' settings (DEBUG on, so sessions the tests sign
# are theirs), with the deployment checks waived.
LAYOUT = {"SERVE_INSECURE": 1, "PUSH_ALLOW_LOOPBACK": 0}
# Churn: what the room hears when someone goes or comes.
CHURN = {"member.left", "member.joined", "members.batch", "member.updated"}
# The Celery workers: the rooms' news, and the replays' own queue.
WORKERS = ("worker-1", "replays")


class Member:
    """A room member's socket that comes back as the room page does: at once after a
    restart's close (4012), after a second after any other; every frame kept."""

    def __init__(self, url: str, room, key: str):
        self.url = f"{url.replace('http', 'ws')}{room_path(room)}"
        self.origin, self.key = url, key
        self.frames: list[dict] = []
        self.closes: list[int | None] = []
        self.snapshot: dict | None = None
        self.snapshots = 0
        self.task: asyncio.Task | None = None
        self.ws = None

    async def start(self) -> "Member":
        self.task = asyncio.get_running_loop().create_task(self._run())
        await self.until(lambda: self.snapshots)
        return self

    async def _run(self) -> None:
        while True:
            try:
                self.ws = await connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": f"sessionid={self.key}"},
                    open_timeout=30,
                )
            except (OSError, TimeoutError):
                self.closes.append(None)  # refused: the process (or nginx) is not back yet
                await asyncio.sleep(1)
                continue
            pinger = asyncio.get_running_loop().create_task(self._ping(self.ws))
            with contextlib.suppress(ConnectionClosed):
                async for text in self.ws:
                    check_frame(ROOM, text)
                    frame = json.loads(text)
                    self.frames.append(frame)
                    if frame["type"] == "room.snapshot":
                        self.snapshot, self.snapshots = frame, self.snapshots + 1
            pinger.cancel()
            # None: cut without a close frame (the process died).
            self.closes.append(self.ws.close_code)
            await asyncio.sleep(0 if self.closes[-1] == CLOSE_RESTARTING else 1)

    @staticmethod
    async def _ping(ws) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(15)
                await ws.send(json.dumps({"type": "ping"}))

    async def until(self, check, within: float = 60):
        deadline = time.monotonic() + within
        while not (result := check()):
            assert time.monotonic() < deadline, f"{self.url}: {self.closes} {self.frames[-3:]}"
            await asyncio.sleep(0.05)
        return result

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def fresh_snapshot(self) -> dict:
        """Asks for the room as it is now (`snapshot.request`)."""
        seen = self.snapshots
        await self.ws.send(json.dumps({"type": "snapshot.request"}))
        await self.until(lambda: self.snapshots > seen)
        return self.snapshot

    def churn(self) -> list[dict]:
        return [frame for frame in self.frames if frame["type"] in CHURN]


def _roster(snapshot: dict) -> dict[int, tuple]:
    return {
        m["user"]["id"]: (m["role"], m["hand_raised"], m["muted"], m["connected"])
        for m in snapshot["members"]
    }


def _staged_room(listeners: int):
    """A live room with a stage (a speaker talking, one muted), a raised hand and an
    audience; its session keys, host first."""
    host = UserFactory(username="supervised_host")
    room = room_create(host=host, title="Under a supervisor")
    talking, quiet, hand, *audience = UserFactory.create_batch(3 + listeners)
    member(room, talking, Role.SPEAKER, muted=False, channel="")
    member(room, quiet, Role.SPEAKER, muted=True, channel="")
    member(room, hand, Role.LISTENER, hand_raised_at=timezone.now(), channel="")
    return room, session_keys([host, talking, quiet, hand, *audience])


@contextlib.contextmanager
def _layout(folder: Path, **env):
    layout = ProductionLayout(folder, **LAYOUT, **env).start()
    try:
        yield layout
    finally:
        layout.stop()


@needs_redis
async def test_a_rolling_restart_keeps_every_member_s_place_without_churn(tmp_path):
    room, keys = await database_sync_to_async(_staged_room)(8)
    with _layout(tmp_path, web_processes=2) as layout:
        members = [Member(layout.url, room, key) for key in keys]
        try:
            for one in members:
                await one.start()
            # Everyone is in (the audience's arrival was batched): the roster to keep.
            before = _roster(await members[0].fresh_snapshot())
            assert len(before) == len(members)
            assert all(connected for *_, connected in before.values())
            await asyncio.sleep(1)  # the last members.batch, if any, has gone out
            for one in members:
                one.frames.clear()
            restart = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "deploy.supervisor", "restart-web"],
                cwd=ROOT,
                env=layout.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert restart.returncode == 0, restart.stdout + restart.stderr + layout.output()
            assert [f"web:web-{port} restarted" for port in layout.web_ports] == (
                restart.stdout.splitlines()
            )
            # Each member was on one process or the other: told to come back at least once,
            # and back, with a new snapshot.
            for one in members:
                await one.until(lambda one=one: one.snapshots >= 2 and one.ws.state.name == "OPEN")
                assert set(one.closes) == {CLOSE_RESTARTING}, one.closes
            snapshot = await members[0].fresh_snapshot()
            churn = [frame for one in members for frame in one.churn()]
        finally:
            for one in members:
                await one.stop()
        output = layout.output()
    assert _roster(snapshot) == before, output
    assert churn == [], output
    assert not crashes_in(output), output


def _tree(root: int) -> set[int]:
    """The pids of a process and everything it started, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += children.get(pid, [])
    return tree


def _group_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def _in_group(group: int) -> list[int]:
    """The living processes of a process group."""
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and _group_of(int(entry)) == group and _alive(int(entry))
    ]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_make_serve_prod_stops_everything_it_started_on_sigterm(tmp_path):
    """`make serve-prod` itself, in the foreground; SIGTERM to make (as a terminal's Ctrl-C
    or a service manager sends it) ends it and every process under it."""
    first = ProductionLayout(tmp_path, web_processes=1)
    env = {
        **first.env,
        **{key: str(value) for key, value in LAYOUT.items()},
        "HOST": "127.0.0.1",
        "PORT": str(first.port),
        "WEB_PORT": str(first.web_ports[0]),
    }
    make = subprocess.Popen(
        ["make", "--no-print-directory", "serve-prod"],
        cwd=ROOT,
        env=env,
        stdout=first.log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (listening(first.port) and listening(first.web_ports[0])):
            assert make.poll() is None, first.output()
            assert time.monotonic() < deadline, first.output()
            time.sleep(0.1)
        assert requests.get(f"{first.url}/", timeout=30).status_code == 200
        started = _tree(make.pid)
        names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in started if _alive(pid)}
        assert {"make", "supervisord", "nginx"} <= names, names
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=60)
    finally:
        if make.poll() is None:
            make.kill()
    left = [pid for pid in started if _alive(pid)]
    assert left == [], first.output()
    assert not listening(first.port)


async def _relays(layout: ProductionLayout, session_key: str) -> bool:
    """Whether the layout's relay allocates with the credentials its web processes hand out
    (through nginx), at the first URL they name."""
    answer = await asyncio.to_thread(
        requests.get,
        f"{layout.url}/api/rtc/ice-servers/",
        cookies={"sessionid": session_key},
        timeout=30,
    )
    (relay,) = [server for server in answer.json()["ice_servers"] if "username" in server]
    assert relay["urls"][0] == f"turn:127.0.0.1:{layout.turn_port}?transport=udp", relay
    await turn_allocation(("127.0.0.1", layout.turn_port), relay["username"], relay["credential"])
    return True


def _places(snapshot: dict) -> dict[int, tuple]:
    """Who is in the room, with which role and mute (a listener's hand is not kept through a
    lost connection, only through a restart's close)."""
    return {m["user"]["id"]: (m["role"], m["muted"]) for m in snapshot["members"]}


async def _answers(url: str) -> bool:
    response = await asyncio.to_thread(requests.get, f"{url}/", timeout=30)
    return response.status_code == 200


async def _back(layout: ProductionLayout, name: str, killed: int, ready):
    """Waits for supervisord to have started `name` again (a new pid) and for `ready()`."""
    deadline = time.monotonic() + 60
    while True:
        state, pid = (await asyncio.to_thread(layout.states)).get(name, (None, None))
        if state in {"STARTING", "RUNNING"} and pid not in {None, killed} and await ready():
            return pid
        assert time.monotonic() < deadline, f"{name} is not back: {state}\n{layout.output()}"
        await asyncio.sleep(0.2)


def _eventually(check, within: float = 60) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _accepts(path: Path) -> bool:
    """Whether something listens on this Unix socket (a Janus's API)."""
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


async def _everyone_back(members: list[Member], seen: list[tuple[int, int]]) -> None:
    """Every member whose socket was cut since `seen` (their closes and snapshots then) is
    connected again, with a new snapshot."""
    for one, (closes, snapshots) in zip(members, seen, strict=True):
        if len(one.closes) > closes:
            await one.until(lambda one=one, then=snapshots: one.snapshots > then, within=90)


def _janus_in(namespace, folder: Path) -> Path:
    """The Janus the layout's `media` program runs (JANUS_BINARY): Debian's, inside the
    test's network namespace (media needs a real interface; MEDIA.md)."""
    wrapper = folder / "janus-in-namespace"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(namespace.prefix)} janus "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@needs_redis
def test_each_process_killed_is_started_again_while_the_others_serve(
    tmp_path, settings, janus_secrets
):
    media_stack_or_skip()
    celery_app.conf.task_always_eager = False  # room news goes through the layout's worker
    namespace = Namespace().create()
    janus_env = {
        "JANUS_URL": f"unix:{tmp_path / 'janus' / 'janus.sock'}",
        "JANUS_BINARY": str(_janus_in(namespace, tmp_path)),
        "JANUS_ICE_ENFORCE_LIST": "v0",
        "ROOM_MEDIA": "sfu",
        # The talker and ann join at the end, past the sweep's usual bound for members who
        # are not connected: every program's kill comes first.
        "ROOM_PRESENCE_STALE_SECONDS": 600,
        **janus_secrets,
    }
    for name, value in janus_env.items():
        setattr(settings, name, value)

    def setting():
        room, keys = _staged_room(3)
        talker, ann = UserFactory(username="talker"), UserFactory(username="ann")
        member(room, talker, Role.SPEAKER, muted=False, channel="")
        follower, host = UserFactory(username="follower"), UserFactory(username="later_host")
        Follow.objects.create(follower=follower, followee=host)
        return room, keys, session_keys([talker, ann]), follower, host

    room, keys, (talker_key, ann_key), follower, later_host = setting()
    outcome: dict = {}
    try:
        with _layout(tmp_path, web_processes=2, media=True, turn=True, **janus_env) as layout:
            namespace.forward_port(layout.port)
            web = f"web:web-{layout.web_ports[0]}"
            janus_socket = tmp_path / "janus" / "janus.sock"

            async def scenario(outside):
                async def listens(port: int) -> bool:
                    return await outside(lambda: listening(port))

                async def anything() -> bool:
                    return True

                async def relays() -> bool:
                    return await outside(lambda: asyncio.run(_relays(layout, talker_key)))

                members = [await Member(layout.url, room, key).start() for key in keys]
                outcome["relays"] = await relays()
                places = _places(await members[0].fresh_snapshot())
                states = await asyncio.to_thread(layout.states)
                outcome["programs"] = sorted(states)
                for name, ready in [
                    (web, lambda: listens(layout.web_ports[0])),
                    ("worker-1", anything),
                    ("replays", anything),
                    ("beat", anything),
                    ("proxy", lambda: listens(layout.port)),
                    ("turn", relays),
                ]:
                    killed = states[name][1]
                    seen = [(len(one.closes), one.snapshots) for one in members]
                    os.kill(killed, signal.SIGKILL)
                    if name not in {"proxy", "turn"}:
                        # The others serve meanwhile (nginx skips a dead web process).
                        outcome[f"answered while {name} was down"] = all(
                            [await _answers(layout.url) for _ in range(5)]
                        )
                    await _back(layout, name, killed, ready)
                    # nginx's workers die with their master's group, not serve on for good.
                    outcome[f"left of {name}"] = _in_group(killed)
                    await _everyone_back(members, seen)
                    outcome[f"places after {name}"] = _places(await members[0].fresh_snapshot())
                    outcome[f"answers after {name}"] = await _answers(layout.url)
                    states = await asyncio.to_thread(layout.states)
                # The worker that came back does the room's work: a room starts, and the
                # follower of its host is told.
                await outside(lambda: room_create(host=later_host, title="After the kill"))
                outcome["notified"] = await outside(
                    lambda: _eventually(
                        lambda: Notification.objects.filter(recipient=follower).exists()
                    )
                )
                for one in members:
                    await one.stop()
                # The media server: killed under a speaker and a listener, who are told, start
                # over once it is back, and hear each other again.
                talker = RoomClient(layout.port, room.pk, talker_key, "talker")
                ann = RoomClient(layout.port, room.pk, ann_key, "ann")
                await talker.open()
                await ann.open()
                await ann.listen("l1")
                await talker.publish("p1")
                outcome["heard before"] = await ann.hears()
                killed = states["media"][1]
                os.kill(killed, signal.SIGKILL)
                outcome["ann told"] = (await ann.next_of("media.hangup"))["reason"]
                outcome["talker told"] = (await talker.next_of("media.hangup"))["reason"]
                outcome["answered while media was down"] = await _answers(layout.url)
                await _back(
                    layout, "media", killed, lambda: outside(lambda: _accepts(janus_socket))
                )
                # What the room page does on `media_lost`: start over.
                await talker.pc.close()
                await ann.pc.close()
                await ann.listen("l2")
                await talker.publish("p2")
                outcome["heard after"] = await ann.hears()
                await talker.close()
                await ann.close()
                outcome["places"] = places

            run_inside(namespace, scenario)
            output = layout.output()
    finally:
        namespace.delete()
    places = outcome.pop("places")
    assert outcome == {
        "programs": [
            "beat",
            "media",
            "proxy",
            "replays",
            "turn",
            "watch",
            *(f"web:web-{p}" for p in layout.web_ports),
            "worker-1",
        ],
        **{f"answered while {name} was down": True for name in (web, *WORKERS, "beat")},
        **{f"places after {name}": places for name in (web, *WORKERS, "beat", "proxy", "turn")},
        **{f"answers after {name}": True for name in (web, *WORKERS, "beat", "proxy", "turn")},
        **{f"left of {name}": [] for name in (web, *WORKERS, "beat", "proxy", "turn")},
        "relays": True,
        "notified": True,
        "heard before": True,
        "ann told": "media_lost",
        "talker told": "media_lost",
        "answered while media was down": True,
        "heard after": True,
    }, output
    # The watcher reported each death in its log.
    reports = (tmp_path / "supervisor" / "logs" / "watch.log").read_text()
    for name in (web, "worker-1:worker-1", "replays:replays", "beat:beat", "proxy:proxy"):
        assert f" {name} exited unexpectedly" in reports, output
    for name in ("turn:turn", "media:media"):
        assert f" {name} exited unexpectedly" in reports, output


# --- The watcher's decisions (supervisord's events, as `watch` reads them) ----------------


def _exited(process: str, pid: int) -> dict:
    return {"processname": process, "groupname": process, "expected": "0", "pid": str(pid)}


def test_a_process_that_keeps_crashing_is_stopped_and_reported(capsys):
    stopped = []
    watcher = Watcher(stopped.append)
    for crash in range(CRASHES_BEFORE_GIVING_UP - 1):
        watcher.event("PROCESS_STATE_EXITED", _exited("beat", crash), now=crash * 60.0)
    assert stopped == []
    assert capsys.readouterr().err.count("beat:beat exited unexpectedly") == (
        CRASHES_BEFORE_GIVING_UP - 1
    )
    watcher.event("PROCESS_STATE_EXITED", _exited("beat", 99), now=300.0)
    assert stopped == ["beat:beat"]
    assert "beat:beat crashed 5 times within 10 minutes; stopped it" in capsys.readouterr().err


def test_crashes_far_apart_and_expected_exits_are_not_a_crash_loop():
    stopped = []
    watcher = Watcher(stopped.append)
    for crash in range(CRASHES_BEFORE_GIVING_UP * 2):
        watcher.event("PROCESS_STATE_EXITED", _exited("beat", crash), now=crash * 200.0)
    for _ in range(CRASHES_BEFORE_GIVING_UP):
        watcher.event("PROCESS_STATE_EXITED", {**_exited("beat", 1), "expected": "1"}, now=10_000.0)
    assert stopped == []


def test_a_process_that_cannot_start_is_reported(capsys):
    watcher = Watcher(lambda process: None)
    watcher.event(
        "PROCESS_STATE_FATAL",
        {"processname": "web-8001", "groupname": "web", "from_state": "BACKOFF"},
        now=0.0,
    )
    assert "web:web-8001 could not be started (6 tries); gave up." in capsys.readouterr().err

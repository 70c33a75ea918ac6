"""Media server benchmark: a stage of 1 or 3 speakers and N listeners through Janus (not a test).

Everything runs as in production, only on one machine: a daphne process (outside) on
ROOM_MEDIA=sfu and a throw-away database, a private Janus with our configuration inside a
network namespace of the benchmark's own (the loopback-only machine needs it: see
tests/support/netns.py), daphne's port forwarded into it, and aiortc peers inside that join
through the room socket as a browser does (`media.publish`, `media.listen`, SDP and ICE over
the socket; Janus's address never reaches them). The peers run in processes of their own
(one for the speakers, one per 100 listeners by default), so the CPU of Janus, of daphne and
of the peers is read apart, from /proc.

For each stage size S (1 and 3 speakers by default) and each audience size N, in a new room
whose host and co-hosts are the S speakers:

1. the speakers open the room, unmute and publish a tone each, at 32 kbit/s Opus (aiortc's
   own default is 96): 400, 620 and 930 Hz, which share no harmonics;
2. Janus's CPU is read over a window with the stage only (the room's fixed cost: the
   AudioBridge mixing and encoding once for the audience's forward);
3. N listeners arrive, --rate a second, each opening the room and sending `media.listen`;
   join to first audio is the time from sending `media.listen` to the first decoded frame
   louder than silence (the tone: RMS above 500 of 32767), p50 and p99 over the listeners;
   from then on a listener counts every packet it receives but decodes none (aiortc's
   decoding costs about 1 % of a core per listener, which would leave this machine no room
   for 200 of them), until step 5;
4. over a steady window: CPU of Janus, daphne and the peers, and the audio each listener
   received, counted at the receiver (RTP packets and Opus payload bytes; aiortc's stats have
   no bytesReceived); Janus per listener is (this window - step 2's) / N;
5. "heard every speaker": every listener decodes again for 2 s (25 of a process at a time);
   one whose last second holds every speaker's tone, each peak 40 dB above the spectrum's
   median, counts (the stage is one mix: loudness alone could not tell one speaker from 3);
6. talking events: whether a listener, before anything changes, was told who is talking;
   then the first speaker falls silent for 2.5 s and hums again, and a listener is counted
   when it gets a `speaking` frame without them, then one with them again (delay from the
   tone's return, which includes Janus's half-second talking window).

It prints these per S and N, the mesh side by side (from the mesh figures in benchmarks/results/, quoted, not
re-run: a room past the mesh's cap of ROOM_MAX_MEMBERS is not carried by it, and the row
says what each speaker's browser would have to send), and last, for the largest N with the
most speakers: `media: listeners=N heard=N janus_cpu_per_listener=X% join_to_audio_p99=Ys`.

    DEBUG=1 .venv/bin/python benchmarks/media_audio.py --listeners 50,100,200,300

(`make bench-media` runs it; `BENCH_ARGS="--listeners 20 --speakers 1"` changes the run.)
It needs Janus (apt-get install janus), root and `ip` for the namespace. It works on the
embedded defaults and with DATABASE_URL and REDIS_URL set, always in a database of its own
that it deletes at the end. The peers cost about 0.3 % of a core per listener themselves
(not decoding): on a small machine they, not Janus, decide how many listeners a run carries.
"""

import argparse
import math
import os
import secrets
import shutil
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # here and in the peers' processes

import django

django.setup()

from django.conf import settings
from django.db import connection

from accounts.models import User
from follows.models import Follow
from rooms.services.lifecycle import room_create
from tests.support.crowd import CrowdProcess
from tests.support.netns import namespaces_available
from tests.support.servers import (
    benchmark_database,
    cpu_delta,
    machine_busy,
    percentile,
    session_keys,
    tree_cpu,
)
from tests.support.stack import MediaStack

CORES = os.cpu_count() or 1
FREQUENCIES = (400.0, 620.0, 930.0)
# On the wire each packet also carries its RTP header (12 bytes without extensions), SRTP's
# 10-byte tag, UDP's 8 and IPv4's 20.
WIRE_OVERHEAD = 50
SILENT_SECONDS = 2.5
# The listeners decode this long for the spectrum (one second of it).
TONE_SECONDS = 2.0
# Listeners of one process decoding at once for it (decoding costs ~1 % of a core each).
TONE_GROUP = 25
# The mesh figures (benchmarks/results/) (benchmarks/mesh_audio.py on this machine), quoted, not re-run: a
# speaker's connection carries about 59.5 kbit/s on the wire and costs its browser about
# 0.03 of a core on top of 0.1. The mesh measured up to 16 people; ROOM_MAX_MEMBERS caps it.
MESH_KBPS_PER_CONNECTION = 59.5
MESH_CORE_PER_CONNECTION = 0.03
MESH_CORE_BASE = 0.1


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(n: int, speakers: int):
    """A live room on the media server whose host and co-hosts are the speakers, and N
    listeners, everyone with a session."""
    tag = uuid.uuid4().hex[:6]
    User.objects.bulk_create(
        User(username=f"sfu{tag}_{i}", display_name=f"Media {n}.{i}") for i in range(n + speakers)
    )
    users = list(User.objects.filter(username__startswith=f"sfu{tag}_").order_by("pk"))
    keys = session_keys(users)
    # Co-hosts follow the host.
    Follow.objects.bulk_create(Follow(follower=u, followee=users[0]) for u in users[1:speakers])
    room = room_create(host=users[0], title=f"Media benchmark {n}", co_hosts=users[1:speakers])
    connection.close()  # the server process writes to the same database from now on
    return room, users[:speakers], keys[:speakers], keys[speakers:]


def _all(crowds, command: str, **args) -> list:
    """Runs a command on several crowds at once; their results, concatenated."""
    for crowd in crowds:
        crowd.ask(command, **args)
    return [item for crowd in crowds for item in crowd.answer()]


class Window:
    """CPU of the named process trees, the machine's busy time and the peers' audio counters
    between `start()` and `stop()`."""

    def __init__(self, roots: dict[str, int], speakers: CrowdProcess, listeners: list):
        self.roots, self.speakers, self.listeners = roots, speakers, listeners

    def _read(self):
        return (
            _all(self.listeners, "received") if self.listeners else [],
            self.speakers.call("sent"),
            tree_cpu(self.roots),
            machine_busy(),
            time.monotonic(),
        )

    def measure(self, seconds: float) -> dict:
        received0, sent0, cpu0, busy0, t0 = self._read()
        time.sleep(seconds)
        received1, sent1, cpu1, busy1, t1 = self._read()
        wall = t1 - t0
        cpu = {name: cpu_delta(cpu0[name], cpu1[name]) / wall for name in self.roots}
        return {
            "cpu": cpu,
            "others": max(0.0, (busy1 - busy0) / wall - cpu["ours"]),
            "received": _rates(received0, received1, wall),
            "sent": _rates(sent0, sent1, wall),
        }


def _rates(before, after, wall: float) -> list[tuple[float, float, float]]:
    """Per peer: (packets a second, payload kbit/s, wire kbit/s)."""
    rates = []
    for (packets0, bytes0), (packets1, bytes1) in zip(before, after, strict=True):
        packets, payload = packets1 - packets0, bytes1 - bytes0
        rates.append(
            (
                packets / wall,
                payload * 8 / wall / 1000,
                (payload + WIRE_OVERHEAD * packets) * 8 / wall / 1000,
            )
        )
    return rates


def _talking(frames, speaker_id: int, quiet_at: float, back_at: float):
    """From one listener's `speaking` frames: did it know the speaker was talking before the
    pause, was it told of the pause, and how long after the tone came back was it told."""
    knew = any(when < quiet_at and speaker_id in ids for when, ids in frames)
    told_quiet = any(quiet_at <= when < back_at and speaker_id not in ids for when, ids in frames)
    back = [when - back_at for when, ids in frames if when >= back_at and speaker_id in ids]
    return knew, told_quiet, (back[0] if back else None)


def run_size(server, janus, crowds, *, n: int, s: int, args) -> dict:
    speaker_crowd, listener_crowds = crowds
    room, speakers, speaker_keys, listener_keys = prepare(n, s)
    people = [
        (key, user.username, FREQUENCIES[i])
        for i, (user, key) in enumerate(zip(speakers, speaker_keys, strict=True))
    ]
    roots = {
        "janus": janus.process.pid,
        "server": server.process.pid,
        "speakers": speaker_crowd.pid,
        **{f"listeners{i}": crowd.pid for i, crowd in enumerate(listener_crowds)},
        "ours": os.getpid(),
    }
    try:
        speaker_crowd.call("speak", port=server.port, room_id=str(room.pk), people=people)
        time.sleep(args.settle)
        stage_only = Window(roots, speaker_crowd, []).measure(args.window)
        say(f"  S={s} N={n}: stage up; Janus {stage_only['cpu']['janus']:.3f} cores")

        k = len(listener_crowds)
        server0 = tree_cpu({"server": server.process.pid})["server"]
        joined_at = time.monotonic()
        for i, crowd in enumerate(listener_crowds):
            crowd.ask(
                "listen",
                port=server.port,
                room_id=str(room.pk),
                keys=listener_keys[i::k],
                interval=k / args.rate,
                wait=args.timeout,
            )
        joins = [join for crowd in listener_crowds for join in crowd.answer()]
        join_wall = time.monotonic() - joined_at
        join_server = cpu_delta(server0, tree_cpu({"server": server.process.pid})["server"])
        heard_joins = [seconds for seconds, _ in joins if seconds is not None]
        failed = sum(failures for _, failures in joins)
        say(
            f"  S={s} N={n}: {len(heard_joins)} of {n} heard something in {join_wall:.0f} s"
            f" ({failed} failed handshakes)"
        )

        time.sleep(args.settle)
        steady = Window(roots, speaker_crowd, listener_crowds).measure(args.window)
        tones = _all(
            listener_crowds,
            "tones",
            frequencies=list(FREQUENCIES[:s]),
            seconds=TONE_SECONDS,
            group=TONE_GROUP,
        )

        quiet_at = speaker_crowd.call("quiet", index=0, quiet=True)
        time.sleep(SILENT_SECONDS)
        back_at = speaker_crowd.call("quiet", index=0, quiet=False)
        time.sleep(args.settle)
        frames = _all(listener_crowds, "speaking")
        talking = [_talking(f, speakers[0].pk, quiet_at, back_at) for f in frames]
    finally:
        try:
            speaker_crowd.call("send", index=0, kind="room.end")
            time.sleep(1)
        except RuntimeError as error:
            say(f"  S={s} N={n}: the host could not end the room: {error}")
        for crowd in (speaker_crowd, *listener_crowds):
            crowd.call("close")
    cpu = steady["cpu"]
    received = steady["received"]
    told_back = [delay for _, _, delay in talking if delay is not None]
    return {
        "n": n,
        "s": s,
        "heard_all": sum(all(heard) for heard in tones),
        "heard_each": [sum(heard[i] for heard in tones) for i in range(s)],
        "join_missing": n - len(heard_joins),
        "handshakes_failed": failed,
        "join_p50": percentile(heard_joins, 50) if heard_joins else None,
        "join_p99": percentile(heard_joins, 99) if heard_joins else None,
        "join_rate": n / join_wall,
        "janus_stage": stage_only["cpu"]["janus"],
        "janus": cpu["janus"],
        "janus_per_listener": (cpu["janus"] - stage_only["cpu"]["janus"]) / n,
        "server": cpu["server"],
        "server_stage": stage_only["cpu"]["server"],
        "server_per_join": join_server / n,
        "peers_per_listener": sum(v for k, v in cpu.items() if k.startswith("listeners")) / n,
        "speakers_cpu": cpu["speakers"],
        "others": steady["others"],
        "packets": statistics.mean(r[0] for r in received),
        "kbps": statistics.mean(r[1] for r in received),
        "kbps_min": min(r[1] for r in received),
        "wire": statistics.mean(r[2] for r in received),
        "speaker_kbps": statistics.mean(r[1] for r in steady["sent"]),
        "knew_on_join": sum(knew for knew, _, _ in talking),
        "told_quiet": sum(told for _, told, _ in talking),
        "told_back": len(told_back),
        "talking_p50": percentile(told_back, 50) if told_back else None,
        "talking_p99": percentile(told_back, 99) if told_back else None,
    }


def mesh_side(members: int) -> str:
    """What the mesh does with a room this size, from the mesh figures in benchmarks/results/."""
    streams = members - 1
    uplink = streams * MESH_KBPS_PER_CONNECTION / 1000
    cores = MESH_CORE_BASE + streams * MESH_CORE_PER_CONNECTION
    carried = "carried" if members <= settings.ROOM_MAX_MEMBERS else "not carried"
    return (
        f"{carried} (cap {settings.ROOM_MAX_MEMBERS}): each speaker would send {streams} "
        f"streams, {uplink:.1f} Mbit/s and ~{cores:.1f} cores of its browser"
    )


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(rows, args, janus_idle: float) -> None:
    print(
        f"\nMedia server audio ({connection.vendor}, "
        f"{'Redis' if settings.REDIS_URL else 'in-memory'} channel layer; {CORES} cores; "
        f"listeners joining at {args.rate:g}/s; {args.window:g} s windows; CPU in % of a core; "
        f"Janus idle with no room: {janus_idle * 100:.2f} %)\n"
    )
    print(
        "| speakers | listeners | heard every speaker | join to first audio p50 / p99 "
        "| per listener received (Opus / wire) | speaker sends | Janus: stage alone "
        "| Janus per listener | daphne steady / per join | peers per listener "
        "| rest of machine |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        missing = f" ({r['join_missing']} silent)" if r["join_missing"] else ""
        if r["handshakes_failed"]:
            missing += f" ({r['handshakes_failed']} handshakes retried)"
        print(
            f"| {r['s']} | {r['n']} | {r['heard_all']}{missing} "
            f"| {_seconds(r['join_p50'])} / {_seconds(r['join_p99'])} s "
            f"| {r['kbps']:.1f} / {r['wire']:.1f} kbit/s (min {r['kbps_min']:.1f}; "
            f"{r['packets']:.0f} packets/s) | {r['speaker_kbps']:.1f} kbit/s "
            f"| {r['janus_stage'] * 100:.1f} % | {r['janus_per_listener'] * 100:.3f} % "
            f"| {r['server'] * 100:.1f} % / {r['server_per_join'] * 1000:.0f} ms "
            f"| {r['peers_per_listener'] * 100:.2f} % | {r['others'] * 100:.0f} % |"
        )
    print("\nTalking events (`speaking` frames) at the listeners; the first speaker pauses:\n")
    print(
        "| speakers | listeners | knew who talked on joining | told of the pause "
        "| told they talk again | delay p50 / p99 |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['s']} | {r['n']} | {r['knew_on_join']} | {r['told_quiet']} "
            f"| {r['told_back']} | {_seconds(r['talking_p50'])} / "
            f"{_seconds(r['talking_p99'])} s |"
        )
    print(
        "\nThe same rooms on the browser mesh (the mesh figures in benchmarks/results/, quoted, not re-run):\n"
    )
    for r in rows:
        print(f"- {r['s']} + {r['n']}: {mesh_side(r['s'] + r['n'])}")
    for r in rows:
        if r["heard_all"] < r["n"]:
            each = ", ".join(
                f"{FREQUENCIES[i]:g} Hz by {count}" for i, count in enumerate(r["heard_each"])
            )
            print(f"\nS = {r['s']}, N = {r['n']}: tones heard: {each}.")
    per_listener = [r["janus_per_listener"] for r in rows if r["n"] >= 100]
    if per_listener:
        worst = max(per_listener)
        print(
            f"\nProjection (not measured): at {worst * 100:.3f} % of a core per listener "
            f"(the worst run of 100 or more), one core of Janus forwards to about "
            f"{1 / worst:.0f} listeners, plus each room's stage alone."
        )
    last = max(rows, key=lambda r: (r["n"], r["s"]))
    print(
        f"media: listeners={last['n']} heard={last['heard_all']} "
        f"janus_cpu_per_listener={last['janus_per_listener'] * 100:.3f}% "
        f"join_to_audio_p99={_seconds(last['join_p99'])}s"
    )


@contextmanager
def media_stack(janus_secrets: dict):
    """Janus in a namespace, daphne on ROOM_MEDIA=sfu beside it; this process's settings
    point at them too."""
    stack = MediaStack(janus_secrets, ROOM_MEDIA="sfu", LOG_LEVEL=os.environ["LOG_LEVEL"]).start()
    try:
        stack.settings_for(settings)
        yield stack
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    numbers = lambda text: [int(x) for x in text.split(",")]  # noqa: E731
    parser.add_argument(
        "--listeners", type=numbers, default=[50, 100, 200, 300], help="audience sizes"
    )
    parser.add_argument("--speakers", type=numbers, default=[1, 3], help="stage sizes (1-3)")
    parser.add_argument("--rate", type=float, default=5, help="listeners arriving a second")
    parser.add_argument("--window", type=float, default=10, help="seconds per CPU window")
    parser.add_argument("--settle", type=float, default=3, help="seconds before a window")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for audio")
    parser.add_argument("--per-process", type=int, default=100, help="listeners per process")
    args = parser.parse_args()
    if shutil.which("janus") is None:
        sys.exit("Janus is not installed (apt-get install janus).")
    if not namespaces_available():
        sys.exit("The benchmark needs root and `ip` for a network namespace.")
    if not all(1 <= s <= len(FREQUENCIES) for s in args.speakers):
        sys.exit(f"--speakers are between 1 and {len(FREQUENCIES)}.")

    janus_secrets = {
        "JANUS_API_SECRET": secrets.token_hex(16),
        "JANUS_ADMIN_KEY": secrets.token_hex(16),
    }
    rows = []
    with benchmark_database(), media_stack(janus_secrets) as stack:
        namespace, server, janus = stack.namespace, stack.server, stack.janus
        processes = math.ceil(max(args.listeners) / args.per_process)
        crowds = (
            CrowdProcess(namespace),
            [CrowdProcess(namespace) for _ in range(processes)],
        )
        try:
            time.sleep(args.settle)
            idle = Window({"janus": janus.process.pid, "ours": os.getpid()}, crowds[0], [])
            janus_idle = idle.measure(args.window / 2)["cpu"]["janus"]
            for s in args.speakers:
                for n in args.listeners:
                    say(f"{s} speaker(s), {n} listeners")
                    rows.append(run_size(server, janus, crowds, n=n, s=s, args=args))
                    say(f"  {rows[-1]}")
        except Exception:
            say(server.output()[-3000:])
            say(janus.output()[-3000:])
            raise
        finally:
            for crowd in (crowds[0], *crowds[1]):
                crowd.stop()
    report(rows, args, janus_idle)


if __name__ == "__main__":
    main()

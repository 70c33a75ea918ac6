"""Replay benchmark: a room recorded through Janus for N minutes, then made into its replay
(not a test).

Everything runs as in production, on one machine, as tests/media/test_replay.py does: a
daphne process on ROOM_MEDIA=sfu and a throw-away database, a private Janus with our
configuration inside a network namespace of the benchmark's own (tests/support/stack.py), a
real Celery worker (`--pool=solo`, the embedded broker unless REDIS_URL is set), and aiortc
peers inside the namespace that join through the room socket as a browser does. The
processes share a VAR_DIR of the benchmark's own (the broker's folder, the recordings, the
replays' files; removed at the end), so no other worker on the machine (a `make run`, a
test) takes its task.

In each room a host speaks and one listener listens (through the AudioBridge's forward and a
Streaming mountpoint, as in production, so the mix is encoded and forwarded): the host's
microphone is espeak-ng's speech (a paragraph, 48 kHz, looped by aiortc's MediaPlayer; a
440 Hz tone without espeak-ng), sent as Opus at 32 kbit/s as the room page sends it.

1. Janus idle: its CPU over --idle seconds with no room.
2. Recording off: a room that does not record; Janus's CPU over a steady window (from
   --settle seconds after the listener first hears the host to the end of --off-seconds of
   speech); the host ends it.
3. Recording on: a room made with `room_create(..., recording=True)`; the host speaks for
   --minutes (fractions allowed: 0.5 for a quick run), Janus's CPU over the same kind of
   window. The WAV parts Janus writes are hard-linked into a folder of the benchmark's own
   while it records (same inode: the header Janus fixes on closing lands there too), so
   they outlive the worker, which deletes the recording once the replay is made.
4. The host ends the room (`room.end` on the socket). End to ready is the replay's
   `ready_at` (set by the worker as it saves it) less the moment the host sent `room.end`,
   one clock for both; the benchmark also polls the database and gives the time it first
   saw `ready`. The worker's CPU over that time includes ffmpeg's (waited-for children).
5. With everything stopped (a quiet machine), `replays.processing.replay_encode` runs once
   more on the kept WAV: ffmpeg's CPU is `getrusage(RUSAGE_CHILDREN)` around the call (both
   encoders, Opus and AAC, run at once), the peaks' CPU is this process's own.
6. Sizes: the WAV parts and the replay's two files (as the worker stored them), in bytes per
   hour of the replay's audio.

It prints these, the Janus log's warnings and errors (those about recording marked), and
last: `replay: minutes=N end_to_ready=Xs ffmpeg_cpu_per_hour=Ys janus_cpu_on=A% off=B%`.

    DEBUG=1 .venv/bin/python benchmarks/replay.py --minutes 10

(`make bench-replay` runs it; `BENCH_ARGS="--minutes 0.5"` is a quick run.) It needs Janus
(apt-get install janus), ffmpeg, root and `ip` for the namespace. It works on the embedded
defaults and with DATABASE_URL and REDIS_URL set (with Redis, the broker is shared: run no
other worker on it meanwhile), always in a database of its own that it deletes at the end.
"""

import argparse
import asyncio
import atexit
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# A VAR_DIR of its own, next to the configured one (removed at the end): this process and
# the ones it starts read it, so the broker's folder, the recordings and the replays are ours.
_VAR_DIR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
_VAR_DIR.mkdir(parents=True, exist_ok=True)
FOLDER = Path(tempfile.mkdtemp(prefix="bench-replay-", dir=_VAR_DIR))
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)
os.environ["VAR_DIR"] = str(FOLDER)

import django

django.setup()

from aiortc.contrib.media import MediaPlayer
from django.conf import settings
from django.db import connection

from accounts.models import User
from replays.models import Replay
from replays.processing import PART_NAME, recording_parts, replay_encode
from rooms.media.control import recording_folder
from rooms.services.lifecycle import room_create
from tests.support.netns import namespaces_available, run_inside
from tests.support.peers import RoomClient
from tests.support.servers import (
    TICKS,
    WorkerProcess,
    benchmark_database,
    cpu_seconds,
    machine_busy,
    session_keys,
)
from tests.support.stack import MediaStack

CORES = os.cpu_count() or 1
HOUR = 3600
SPEECH = (
    "Welcome back, everyone, and thank you for joining the room tonight. "
    "We are talking about running a small server at home, and about what it takes to carry "
    "a conversation to a few hundred people. "
    "The first question is always the same: how much does it cost? "
    "Less than you would think. One small machine, two cores, and a good connection. "
    "The second question is about the recording. "
    "Every word said on stage goes into one mix, and the mix is what the replay keeps. "
    "Nobody is recorded without saying yes first. "
    "So, let us hear from the audience. Raise your hand if you want to speak, "
    "and I will bring you up in a moment."
)
# What the Janus log says that a reader of the figures should see.
JANUS_NOTEWORTHY = re.compile(r"\[(WARN|ERR|FATAL)\]|record", re.IGNORECASE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_with_children(pid: int) -> float:
    """CPU seconds of a process and of the children it waited for (utime, stime, cutime,
    cstime of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICKS


def speech_file() -> Path | None:
    """The host's microphone: espeak-ng reading SPEECH, as a 48 kHz mono WAV (None without
    espeak-ng)."""
    if shutil.which("espeak-ng") is None:
        return None
    spoken = subprocess.run(
        ["espeak-ng", "--stdout", "-s", "150", SPEECH],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    wav = FOLDER / "speech.wav"
    quiet = [settings.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run(
        [*quiet, "-i", "-", "-ar", "48000", "-ac", "1", str(wav)], input=spoken, check=True
    )
    return wav


class Keeper:
    """Hard-links a room's WAV parts into a folder of ours as Janus writes them (named as
    closed parts: Janus renames its `.wav.tmp` on closing, the inode stays)."""

    def __init__(self, room_id):
        self.source = recording_folder(room_id)
        self.folder = FOLDER / "kept" / room_id.hex
        self.folder.mkdir(parents=True)

    def link(self) -> None:
        for path in self.source.iterdir() if self.source.is_dir() else ():
            if PART_NAME.fullmatch(path.name):
                target = self.folder / path.name.removesuffix(".tmp")
                if not target.exists():
                    os.link(path, target)


async def speak(stack: MediaStack, room, keys, *, seconds: float, args, speech, hooks) -> dict:
    """The host speaks for `seconds` (from publishing) while one listener listens; Janus's
    CPU over the steady part; then the host ends the room."""
    janus = stack.janus.process.pid
    host = RoomClient(stack.server.port, room.pk, keys[0], "host")
    listener = RoomClient(stack.server.port, room.pk, keys[1], "listener")
    result = {"recording": (await host.open())["room"]["recording"]}
    await listener.open()
    await host.send("mute.set", muted=False)
    await listener.listen()
    await host.publish()
    player = None
    if speech is not None:
        player = MediaPlayer(str(speech), loop=True)
        host.pc.getSenders()[0].replaceTrack(player.audio)
    published = time.monotonic()
    try:
        result["heard"] = await listener.hears()
        result["heard_after"] = time.monotonic() - published
        listener.decoding = False  # counted from now on, not decoded
        await asyncio.sleep(args.settle)
        hooks.get("steady", lambda: None)()
        busy0, cpu0, packets0 = machine_busy(), cpu_seconds(janus), listener.packets
        t0 = time.monotonic()
        await asyncio.sleep(max(0.0, published + seconds - time.monotonic()))
        busy1, cpu1, packets1 = machine_busy(), cpu_seconds(janus), listener.packets
        t1 = time.monotonic()
        result["window"] = t1 - t0
        result["busy"] = (busy1 - busy0) / (t1 - t0)
        result["janus"] = (cpu1 - cpu0) / (t1 - t0)
        result["packets"] = (packets1 - packets0) / (t1 - t0)
        hooks.get("before_end", lambda: None)()
        result["spoken"] = time.monotonic() - published
        result["end_sent"] = time.time()
        await host.send("room.end")
        await listener.next_of("room.ended")
    finally:
        for client in (host, listener):
            await client.close()
        if player is not None:
            player.audio.stop()
    return result


def one_room(stack, users, keys, *, recording: bool, seconds: float, args, speech, worker):
    created = time.time()
    room = room_create(
        host=users[0],
        title=f"Replay benchmark ({'on' if recording else 'off'})",
        recording=recording,
    )
    connection.close()  # the server process writes to the same database from now on
    hooks, kept = {}, None
    if recording:
        kept = Keeper(room.pk)
        hooks["steady"] = kept.link

        def before_end():
            kept.link()
            hooks["worker_cpu"] = cpu_with_children(worker.process.pid)
            hooks["busy"] = machine_busy()

        hooks["before_end"] = before_end
    result = {}

    async def scenario(_outside):
        result.update(
            await speak(stack, room, keys, seconds=seconds, args=args, speech=speech, hooks=hooks)
        )

    run_inside(stack.namespace, scenario)
    if not result["heard"]:
        raise RuntimeError(
            f"The listener heard nothing in the room ({'on' if recording else 'off'})."
        )
    return {**result, "room": room, "created": created, "kept": kept, "hooks": hooks}


def wait_ready(room, since: float, timeout: float) -> tuple[Replay, float]:
    """The replay once ready (or failed), and seconds from `since` (time.time()) to when
    this process first saw it so."""
    deadline = time.monotonic() + timeout
    while True:
        replay = Replay.objects.get(room=room)
        if replay.status in (Replay.Status.READY, Replay.Status.FAILED):
            seen = time.time() - since
            connection.close()
            return replay, seen
        if time.monotonic() > deadline:
            raise RuntimeError(f"The replay is still {replay.status} after {timeout:g} s.")
        time.sleep(0.1)


def reencode(parts) -> dict:
    """`replay_encode` once more on the kept WAV: ffmpeg's CPU (both encoders), this
    process's (the peaks) and the wall time."""
    out = FOLDER / "reencoded"
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    encoded = replay_encode(parts, out, ffmpeg=settings.FFMPEG)
    wall = time.monotonic() - t0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self1 = resource.getrusage(resource.RUSAGE_SELF)

    def used(before, after):
        return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime

    return {
        "duration": encoded.duration,
        "ffmpeg": used(children0, children1),
        "peaks": used(self0, self1),
        "wall": wall,
        "ogg": encoded.ogg.stat().st_size,
        "m4a": encoded.m4a.stat().st_size,
    }


def janus_notes(log: str, limit: int = 15) -> list[str]:
    """The Janus log's warnings, errors and lines about recording, each once (without
    colours), with how often it came."""
    counts: dict[str, int] = {}
    for line in ANSI.sub("", log).splitlines():
        if JANUS_NOTEWORTHY.search(line):
            text = line.strip()
            counts[text] = counts.get(text, 0) + 1
    return [f"{text}" + (f" (x{n})" if n > 1 else "") for text, n in counts.items()][:limit]


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def report(args, *, idle, off, on, replay, seen, worker_cpu, busy, again, wav, parts, notes):
    duration = replay.duration
    hours = duration / HOUR
    end_to_ready = (replay.ready_at.timestamp() - on["end_sent"]) if replay.ready_at else None
    lived = on["end_sent"] - on["created"]
    ffmpeg_per_hour = again["ffmpeg"] / (again["duration"] / HOUR)
    ogg, m4a = replay.audio_ogg.size, replay.audio_m4a.size
    print(
        f"\nReplay of a recorded room ({connection.vendor}, "
        f"{'Redis' if settings.REDIS_URL else 'embedded'} broker; {CORES} cores; "
        f"{'espeak-ng speech' if on['speech'] else 'a 440 Hz tone'}, Opus 32 kbit/s from the "
        f"host, one listener; CPU in % of a core)\n"
    )
    print("| figure | value |")
    print("| --- | ---: |")
    rows = [
        ("minutes spoken (host publishing to `room.end`)", f"{on['spoken'] / 60:.2f}"),
        ("room live (created to `room.end`)", f"{lived:.1f} s"),
        (
            "replay duration",
            f"{duration:.1f} s ({len(parts)} WAV part{'s' if len(parts) != 1 else ''})",
        ),
        (
            "end to ready (`ready_at` - `room.end` sent)",
            f"{end_to_ready:.1f} s (first seen {seen:.1f} s)",
        ),
        ("worker CPU, end to ready (its own and ffmpeg's)", f"{worker_cpu:.1f} s"),
        (
            "waveform's loudest peak / chapters",
            f"{max(replay.peaks, default=0):.2f} / {len(replay.chapters)}",
        ),
        (
            "re-encode of the kept WAV: ffmpeg CPU (Opus + AAC) / peaks CPU / wall",
            f"{again['ffmpeg']:.1f} s / {again['peaks']:.2f} s / {again['wall']:.1f} s",
        ),
        ("ffmpeg CPU per hour of audio", f"{ffmpeg_per_hour:.0f} s"),
        ("Janus idle, no room", f"{idle * 100:.2f} %"),
        (
            f"Janus, recording on ({on['window']:.0f} s window)",
            f"{on['janus'] * 100:.2f} %",
        ),
        (
            f"Janus, recording off ({off['window']:.0f} s window)",
            f"{off['janus'] * 100:.2f} %",
        ),
        (
            "listener received (on / off)",
            f"{on['packets']:.1f} / {off['packets']:.1f} packets/s",
        ),
        (
            "whole machine busy (all processes, in cores): on / off window / end to ready",
            f"{on['busy']:.2f} / {off['busy']:.2f} / {busy:.2f} of {CORES}",
        ),
        ("WAV per hour", f"{wav / hours:,.0f} B ({_mb(wav / hours)})"),
        ("Opus (.ogg) per hour", f"{ogg / hours:,.0f} B ({_mb(ogg / hours)})"),
        ("AAC (.m4a) per hour", f"{m4a / hours:,.0f} B ({_mb(m4a / hours)})"),
        (
            "re-encoded sizes (ogg / m4a), as stored?",
            f"{again['ogg']:,} / {again['m4a']:,} B"
            f" ({'same' if (again['ogg'], again['m4a']) == (ogg, m4a) else 'differ'})",
        ),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(
        f"\nThe replay holds {duration - on['spoken']:+.1f} s beyond the minutes spoken: the "
        f"AudioBridge records from the moment the room goes live ({lived - on['spoken']:.1f} s "
        f"before the host's voice, here) to the end."
    )
    if notes:
        print("\nJanus's log while the rooms ran (warnings, errors, recording):\n")
        for note in notes:
            print(f"    {note}")
    else:
        print("\nJanus's log while the rooms ran: no warning, error or line about recording.")
    print(
        f"replay: minutes={args.minutes:g} end_to_ready={end_to_ready:.1f}s "
        f"ffmpeg_cpu_per_hour={ffmpeg_per_hour:.0f}s janus_cpu_on={on['janus'] * 100:.2f}% "
        f"off={off['janus'] * 100:.2f}%"
    )


def run(args, janus_secrets) -> None:
    stack = MediaStack(
        janus_secrets,
        ROOM_MEDIA="sfu",
        LOG_LEVEL=os.environ["LOG_LEVEL"],
        RECORDINGS_DIR=str(FOLDER / "recordings"),
    )
    worker = None
    try:
        stack.start()
        stack.settings_for(settings)
        worker = WorkerProcess(**stack.env).start()
        users = [User.objects.create(username=name) for name in ("replay_host", "replay_ear")]
        keys = session_keys(users)
        connection.close()
        speech = speech_file()
        say(f"speech: {speech or 'none (no espeak-ng): a tone'}")

        time.sleep(args.settle)
        cpu0, t0 = cpu_seconds(stack.janus.process.pid), time.monotonic()
        time.sleep(args.idle)
        idle = (cpu_seconds(stack.janus.process.pid) - cpu0) / (time.monotonic() - t0)
        say(f"Janus idle: {idle * 100:.2f} %")

        # From here on: what Janus logs about the rooms (its start-up warnings are left out).
        log_start = len(stack.janus.output())
        common = {"args": args, "speech": speech, "worker": worker}
        off = one_room(stack, users, keys, recording=False, seconds=args.off_seconds, **common)
        say(f"recording off: Janus {off['janus'] * 100:.2f} % over {off['window']:.0f} s")
        say(f"recording on: the host speaks for {args.minutes:g} minutes")
        on = one_room(stack, users, keys, recording=True, seconds=args.minutes * 60, **common)
        on["speech"] = speech is not None
        say(f"recording on: Janus {on['janus'] * 100:.2f} % over {on['window']:.0f} s")
        replay, seen = wait_ready(on["room"], on["end_sent"], args.timeout)
        worker_cpu = cpu_with_children(worker.process.pid) - on["hooks"]["worker_cpu"]
        busy = (machine_busy() - on["hooks"]["busy"]) / seen
        if replay.status != Replay.Status.READY:
            raise RuntimeError(f"The replay failed: {replay.failure}")
        say(f"replay ready {seen:.1f} s after the end")
        notes = janus_notes(stack.janus.output()[log_start:])
    except Exception:
        if stack.server is not None:
            say(stack.server.output()[-3000:])
        if stack.janus is not None:
            say(stack.janus.output()[-3000:])
        if worker is not None:
            say(worker.output()[-3000:])
        raise
    finally:
        if worker is not None:
            worker.stop()
        stack.stop()

    # The machine is quiet now: the encoders once more, on the WAV kept from the worker.
    parts = recording_parts(on["kept"].folder)
    wav = sum(part.path.stat().st_size for part in parts)
    say(f"re-encoding {wav / 1e6:.1f} MB of WAV")
    again = reencode(parts)
    report(
        args,
        idle=idle,
        off=off,
        on=on,
        replay=replay,
        seen=seen,
        worker_cpu=worker_cpu,
        busy=busy,
        again=again,
        wav=wav,
        parts=parts,
        notes=notes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="minutes the host speaks")
    parser.add_argument(
        "--off-seconds", type=float, default=60, help="seconds of speech in the room not recorded"
    )
    parser.add_argument("--idle", type=float, default=10, help="seconds of Janus with no room")
    parser.add_argument("--settle", type=float, default=5, help="seconds before a window")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for ready")
    args = parser.parse_args()
    if shutil.which("janus") is None:
        sys.exit("Janus is not installed (apt-get install janus).")
    if shutil.which(settings.FFMPEG) is None:
        sys.exit("ffmpeg is not installed (apt-get install ffmpeg).")
    if not namespaces_available():
        sys.exit("The benchmark needs root and `ip` for a network namespace.")
    if args.minutes * 60 < args.settle + 15 or args.off_seconds < args.settle + 15:
        sys.exit("--minutes and --off-seconds must leave a window after --settle (15 s at least).")

    janus_secrets = {
        "JANUS_API_SECRET": secrets.token_hex(16),
        "JANUS_ADMIN_KEY": secrets.token_hex(16),
    }
    with benchmark_database():
        run(args, janus_secrets)


if __name__ == "__main__":
    main()

"""Browser mesh benchmark: real Chromium pages in one room, sending real audio (not a test).

For each size N it starts a daphne process on a throw-away database of its own, makes a
live room whose host and co-hosts are its S speakers (on stage as soon as they arrive), and
opens N pages one after another — the speakers first, each unmuted once its page is up,
then N - S listeners — each page in a browser context of its own, signed in by session
cookie, with Chromium's fake microphone playing a voice-like WAV file. Each speaker runs in
a Chromium process of its own, so its CPU can be read apart; the listeners share one more.
It prints, per N:

- the time from a page starting to open the room to its first audio: inbound-rtp bytes
  growing and audioLevel > 0 from every speaker already unmuted when it opened (the first
  speaker has nobody to hear and no figure), p50 and max over the pages;
- unheard pairs: (page, speaker) pairs still silent --timeout seconds after the last page
  opened; the run goes on, and says on stderr what the page knew of that connection;
- a speaker's outbound bitrate per connection (Opus payload, `bytesSent`), averaged over
  the speakers, and a speaker's whole uplink with RTP, SRTP, UDP and IPv4 overhead added
  (`headerBytesSent` + 38 bytes a packet);
- browser CPU as CPU seconds per wall second (utime + stime of each Chromium's process
  tree, read from /proc): per speaker browser, the listeners' browser, and in all;

all over the same window (10 s by default) once every page hears every speaker. It also
prints the core count, and what the rest of the machine used in the window (from
/proc/stat, less the browsers, the server and this script): a busy machine makes the
figures worse, and the table says so.

    DEBUG=1 .venv/bin/python benchmarks/mesh_audio.py --pages 2,4,6,8

(`make bench-mesh` runs it; `BENCH_ARGS="--pages 2,4 --speakers 2"` changes the run.) It
works on the embedded defaults (SQLite, in-memory channel layer) and with DATABASE_URL and
REDIS_URL set, always in a database of its own (bench_<name>, or var/bench.sqlite3) that it
deletes at the end. It needs Chromium (/usr/bin/chromium, or CHROMIUM_PATH) and Playwright.
The Chromium flags and the voice come from tests/support/browser.py, the page helpers from
tests/support/pages.py (`open_room`, `unmute`).
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
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
from django.db import connection
from playwright.async_api import async_playwright

from accounts.models import User
from follows.models import Follow
from rooms.services.lifecycle import room_create
from tests.support.browser import AUTOPLAY, CHROMIUM, CHROMIUM_ARGS, write_voice
from tests.support.pages import open_room, unmute
from tests.support.servers import (
    ServerProcess,
    benchmark_database,
    cpu_delta,
    load_average,
    machine_busy,
    percentile,
    session_keys,
    tree_cpu,
)

CORES = os.cpu_count() or 1
SILENCE = 0.001
# RTP headers are in headerBytesSent; on top of them: SRTP's 10-byte tag, UDP 8, IPv4 20.
WIRE_OVERHEAD = 38

# Resolves once the page hears every one of `speakers` (user ids): for each, inbound bytes
# that grew since the previous reading and a level above silence. Returns the wall-clock
# time (ms since the epoch) of the reading that completed the set, or the missing ids.
HEARS_ALL = """async ([speakers, silence, timeoutMs]) => {
  const clock = () => performance.timeOrigin + performance.now();
  const until = clock() + timeoutMs;
  const last = {};
  const heard = new Set();
  while (clock() < until) {
    const { connections } = await window.roundtable.debug.audio();
    for (const { user: id, received, level } of connections) {
      if (!speakers.includes(id) || heard.has(id)) continue;
      if (id in last && received > last[id] && level > silence) heard.add(id);
      last[id] = received;
    }
    if (heard.size === speakers.length) return { at: clock() };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { missing: speakers.filter((id) => !heard.has(id)) };
}"""

# What a page knows of its connection with `id`, when it does not hear them.
DIAGNOSE = """async (id) => {
  const { connections, playing } = await window.roundtable.debug.audio();
  const peer = connections.find((c) => c.user === id);
  if (!peer) return { peer: null };
  const { state, signaling, directions, received, restarts, rebuilds } = peer;
  return {
    state, signaling, directions, received, restarts, rebuilds,
    player: playing.includes(id),
    players: playing.length,
  };
}"""

# A speaker's outbound audio, summed over its connections.
SENT = """async () => {
  let bytes = 0, headers = 0, packets = 0, connections = 0;
  for (const peer of (await window.roundtable.debug.audio()).connections) {
    bytes += peer.sent;
    headers += peer.sentHeaders;
    packets += peer.sentPackets;
    if (peer.sent > 0) connections += 1;
  }
  return { bytes, headers, packets, connections };
}"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- /proc ------------------------------------------------------------------------------


def _find_browser(marker: str) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                return int(entry)
    raise RuntimeError(f"no Chromium process with {marker} on its command line")


def prepare(n: int, speakers: int):
    """A live room whose host and co-hosts are the speakers, and N people with sessions."""
    tag = uuid.uuid4().hex[:6]
    User.objects.bulk_create(
        User(username=f"mesh{tag}_{i}", display_name=f"Mesh {n}.{i}") for i in range(n)
    )
    users = list(User.objects.filter(username__startswith=f"mesh{tag}_").order_by("pk"))
    cookies = {user.pk: key for user, key in zip(users, session_keys(users), strict=True)}
    # Co-hosts follow the host, as the rooms' rules ask.
    Follow.objects.bulk_create(Follow(follower=u, followee=users[0]) for u in users[1:speakers])
    room = room_create(host=users[0], title=f"Mesh benchmark {n}", co_hosts=users[1:speakers])
    connection.close()  # the server process writes to the same database from now on
    return room, users[:speakers], users[speakers:], cookies


# --- the browsers -----------------------------------------------------------------------


async def _page(browser, server, cookie: str):
    # bypass_csp: Playwright waits with eval(), which the pages' policy forbids.
    context = await browser.new_context(viewport={"width": 800, "height": 700}, bypass_csp=True)
    await context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.url}]
    )
    return await context.new_page()


async def _arrives(page, base: str, room, speaker_ids: list[int], wait: float):
    """Opens the room in `page`; (seconds until it hears every one of `speaker_ids`, or
    None, and the ids it did not hear within `wait`)."""
    started = time.time()
    await open_room(page, base, room)
    if not speaker_ids:
        return None, []
    result = await page.evaluate(HEARS_ALL, [speaker_ids, SILENCE, wait * 1000])
    if "missing" in result:
        return None, result["missing"]
    return result["at"] / 1000 - started, []


async def _unheard(pages, speaker_ids, wait: float) -> dict[int, list[int]]:
    """Which speakers (other than itself) each page does not hear within `wait`."""
    checks = [
        page.evaluate(HEARS_ALL, [[s for s in speaker_ids if s != pk], SILENCE, wait * 1000])
        for pk, page in pages.items()
    ]
    results = await asyncio.gather(*checks)
    return {pk: r["missing"] for pk, r in zip(pages, results, strict=True) if "missing" in r}


async def _open_pages(browsers, server, room, *, speakers, listeners, cookies, n, wait):
    """Opens the pages one after another, the speakers first (each unmuted once up).
    Returns the pages by user id, the arrival times, the pages that missed a speaker on
    arrival, and the console warnings."""
    pages, arrivals, on_stage, late, warnings = {}, [], [], 0, []
    for i, person in enumerate([*speakers, *listeners]):
        browser = browsers[f"speaker{i + 1}"] if i < len(speakers) else browsers["listeners"]
        page = await _page(browser, server, cookies[person.pk])
        page.on(
            "console",
            lambda m, pk=person.pk: m.type == "warning" and warnings.append(f"user {pk}: {m.text}"),
        )
        pages[person.pk] = page
        seconds, missing = await _arrives(page, server.url, room, list(on_stage), wait)
        if seconds is not None:
            arrivals.append(seconds)
        late += bool(missing)
        if i < len(speakers):
            await unmute(page)
            on_stage.append(person.pk)
        heard = f", heard in {seconds:.2f} s" if seconds else ""
        if missing:
            heard = f", did NOT hear {missing} within {wait:.0f} s"
        say(f"  N={n}: page {i + 1} (user {person.pk}) up{heard}")
    return pages, arrivals, late, warnings


async def _measure(pages, speakers, roots, window: float) -> dict:
    """Outbound bytes of the speakers and CPU of every process tree over `window` s."""
    speaker_pages = [pages[p.pk] for p in speakers]
    cpu0 = tree_cpu(roots)
    busy0, load0, t0 = machine_busy(), load_average(), time.monotonic()
    sent0 = await asyncio.gather(*(page.evaluate(SENT) for page in speaker_pages))
    await asyncio.sleep(window)
    sent1 = await asyncio.gather(*(page.evaluate(SENT) for page in speaker_pages))
    cpu1 = tree_cpu(roots)
    busy1, load1, wall = machine_busy(), load_average(), time.monotonic() - t0
    cpu = {name: cpu_delta(cpu0[name], cpu1[name]) / wall for name in cpu0}
    per_connection, uplink = [], []
    for before, after in zip(sent0, sent1, strict=True):
        payload = after["bytes"] - before["bytes"]
        headers = after["headers"] - before["headers"]
        packets = after["packets"] - before["packets"]
        per_connection.append(payload * 8 / wall / 1000 / max(after["connections"], 1))
        uplink.append((payload + headers + WIRE_OVERHEAD * packets) * 8 / wall / 1000)
    return {
        "cpu": cpu,
        "connections": statistics.mean(a["connections"] for a in sent1),
        "kbps": statistics.mean(per_connection),
        "uplink": statistics.mean(uplink),
        "others": max(0.0, (busy1 - busy0) / wall - cpu["ours"]),
        "load": max(load0, load1),
    }


async def run_size(playwright, server, voice, *, n: int, s: int, window: float, wait: float):
    room, speakers, listeners, cookies = await asyncio.to_thread(prepare, n, s)
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={voice}", AUTOPLAY]
    tag = f"--bench-mesh={os.getpid()}-{n}"
    names = [f"speaker{i + 1}" for i in range(len(speakers))] + (["listeners"] if listeners else [])
    browsers, roots = {}, {}
    try:
        for name in names:
            browsers[name] = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=[*args, f"{tag}-{name}"]
            )
            roots[name] = _find_browser(f"{tag}-{name}")
        pages, arrivals, late, warnings = await _open_pages(
            browsers,
            server,
            room,
            speakers=speakers,
            listeners=listeners,
            cookies=cookies,
            n=n,
            wait=wait,
        )
        # Every page hears every speaker other than itself, later speakers included.
        unheard = await _unheard(pages, [p.pk for p in speakers], wait)
        for pk, missing in unheard.items():
            for speaker in missing:
                found = await pages[pk].evaluate(DIAGNOSE, speaker)
                say(f"  N={n}: user {pk} does not hear user {speaker}: {found}")
        await asyncio.sleep(2)  # let the last renegotiations settle
        # "ours": this script's whole tree (Playwright's driver, the browsers, the server).
        roots.update(server=server.process.pid, ours=os.getpid())
        figures = await _measure(pages, speakers, roots, window)
    finally:
        for browser in browsers.values():
            await browser.close()
    cpu = figures.pop("cpu")
    return {
        **figures,
        "n": n,
        "speakers": len(speakers),
        "listeners": len(listeners),
        "late": late,
        "unheard": sum(len(missing) for missing in unheard.values()),
        "warnings": warnings,
        "arrival_p50": percentile(arrivals, 50) if arrivals else None,
        "arrival_max": max(arrivals) if arrivals else None,
        "speaker_cpu": [cpu[name] for name in names if name.startswith("speaker")],
        "listener_cpu": cpu.get("listeners"),
        "browsers_cpu": sum(cpu[name] for name in names),
        "server_cpu": cpu["server"],
    }


def report(rows, window: float) -> None:
    print(
        f"\nBrowser mesh audio ({connection.vendor}, "
        f"{'Redis' if settings.REDIS_URL else 'in-memory'} channel layer; {CORES} cores; "
        f"{window:g} s window; CPU in cores = CPU seconds per wall second)\n"
    )
    print(
        "| N | speakers + listeners | time to first audio p50 / max | unheard pairs "
        "| per connection | speaker uplink on the wire | CPU per speaker browser "
        "| listeners' browser | all browsers | server | rest of machine | load 1 min |"
    )
    print("| ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        arrival = f"{r['arrival_p50']:.2f} / {r['arrival_max']:.2f} s" if r["arrival_p50"] else "-"
        listeners = f"{r['listener_cpu']:.2f}" if r["listener_cpu"] is not None else "-"
        print(
            f"| {r['n']} | {r['speakers']} + {r['listeners']} | {arrival} | {r['unheard']} "
            f"| {r['kbps']:.1f} kbit/s x {r['connections']:.0f} | {r['uplink']:.0f} kbit/s "
            f"| {' '.join(f'{c:.2f}' for c in r['speaker_cpu'])} | {listeners} "
            f"| {r['browsers_cpu']:.2f} | {r['server_cpu']:.2f} | {r['others']:.2f} "
            f"| {r['load']:.2f} |"
        )
    for r in rows:
        if r["unheard"] or r["late"]:
            print(
                f"\nN = {r['n']}: {r['late']} page(s) did not hear every speaker on arrival and "
                f"{r['unheard']} page-speaker pair(s) were still silent after the wait (details "
                "on stderr); those pages are left out of the arrival times."
            )
        for warning in r["warnings"][:5]:
            print(f"  console warning, N = {r['n']}: {warning}")
    busy = [r["n"] for r in rows if r["others"] > 0.25 * CORES]
    if busy:
        print(
            f"\nNote: other processes used more than {0.25 * CORES:g} cores during N = "
            f"{', '.join(map(str, busy))}; those figures are worse than on an idle machine. "
            "(The load average counts this benchmark's own browsers too.)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[2, 4, 6, 8],
        help="room sizes, comma-separated (default 2,4,6,8)",
    )
    parser.add_argument(
        "--speakers", type=int, default=3, help="speakers per room, at most N (default 3)"
    )
    parser.add_argument("--window", type=float, default=10, help="seconds measured per size")
    parser.add_argument("--timeout", type=float, default=45, help="seconds to wait for audio")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium is not installed at {CHROMIUM} (set CHROMIUM_PATH).")
    if not 1 <= args.speakers <= settings.ROOM_SPEAKER_CAP:
        sys.exit(f"--speakers is between 1 and ROOM_SPEAKER_CAP ({settings.ROOM_SPEAKER_CAP}).")

    with benchmark_database():
        server = ServerProcess(LOG_LEVEL="WARNING").start()
        rows = []
        try:
            with tempfile.TemporaryDirectory(prefix="mesh-bench-") as folder:
                voice = Path(folder) / "voice.wav"
                write_voice(voice)

                async def run_all():
                    async with async_playwright() as playwright:
                        for n in args.pages:
                            s = min(n, args.speakers)
                            say(f"N={n}: {s} speakers, {n - s} listeners")
                            rows.append(
                                await run_size(
                                    playwright,
                                    server,
                                    voice,
                                    n=n,
                                    s=s,
                                    window=args.window,
                                    wait=args.timeout,
                                )
                            )

                asyncio.run(run_all())
        except Exception:
            say(server.output()[-3000:])
            raise
        finally:
            server.stop()
    report(rows, args.window)


if __name__ == "__main__":
    main()

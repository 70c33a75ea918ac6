"""Mouth-to-ear latency (not a test): how long a sound takes from a speaker's microphone to
another person's ear, in real Chromium pages, on the mesh and through the media server.

The speaking page's microphone clicks: its getUserMedia is answered (an init script) with a
Web Audio stream that is silent but for a 20 ms burst of 1 kHz every --period ms, and the
page notes when each burst leaves (performance.timeOrigin + performance.now(): one wall
clock for every page on the machine). The hearing page taps the <audio> elements the room
plays through Web Audio (a ScriptProcessor of 256 frames) and notes when a burst arrives:
a block above a tenth of full scale, half a period after the last. Each arrival is matched to the
newest burst sent before it; the difference is the latency. The same tap on the speaking
page's own stream, with no network between, gives the measurement's own cost ("local"),
which every other row includes.

Paths, in rooms of their own: a host who clicks, a co-host on stage (muted), a listener and
one more person:

- mesh: the host to the co-host, browser to browser;
- stage: the host to the co-host through Janus's AudioBridge (the mix less their own voice);
- audience: the host to the listener through the AudioBridge's forward and a Streaming
  mountpoint;
- edge: the host to a second listener, whom JANUS_LISTENERS_PER_SERVER=1 sends to an edge
  Janus (the mix forwarded there too);
- the move: the mesh room again, as its fourth person arrives past ROOM_MESH_MAX_MEMBERS=3
  and it moves, live, to the media server: the longest silence beyond the click period at
  the co-host and the listener (0: no click was missed);
- audience, loss: the same with --loss % of the UDP packets anyone in the namespace
  receives dropped at random (iptables' `statistic` match: this kernel has no netem), but
  for Janus's forward of the mix to its mountpoint: what share of the listener's samples
  were not concealed (1 - (concealed - silently concealed) / received, Chromium's
  inbound-rtp statistics; in-band FEC on), packets lost and FEC packets received, and the
  longest gap between heard bursts.

Everything runs on one machine, as the media tests do: daphne outside, Janus and the pages
inside a network namespace of the benchmark's own (tests/support/stack.py). A real microphone adds Chromium's echo canceller, noise suppression and gain control (about
10 ms) on top; a stream from Web Audio skips them.

    DEBUG=1 .venv/bin/python benchmarks/latency.py --seconds 20

(`make bench-latency` runs it.) Its last line:
`latency: mesh_p50=Nms stage_p50=Nms audience_p50=Nms edge_p50=Nms p99_max=Nms
loss5_recovered=N% escalation_gap=Nms`.
It needs Chromium, Janus, root, `ip` and iptables; it works on the embedded defaults and with
DATABASE_URL and REDIS_URL set, in a database of its own that it deletes at the end.
"""

import argparse
import asyncio
import itertools
import os
import secrets
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings
from django.db import connection
from playwright.async_api import async_playwright

from accounts.models import User
from follows.models import Follow
from rooms.services.lifecycle import room_create
from tests.support.browser import AUTOPLAY, CHROMIUM, CHROMIUM_ARGS
from tests.support.netns import namespaces_available
from tests.support.pages import eventually, open_room
from tests.support.servers import benchmark_database, percentile, session_keys
from tests.support.stack import MediaStack

# A microphone that clicks; `window.clicksSent` holds when each click left.
CLICKING_MICROPHONE = """
(() => {
  const PERIOD = %(period)d;
  window.clicksSent = [];
  window.clicksLocal = [];
  navigator.mediaDevices.getUserMedia = async () => {
    const context = new AudioContext({ sampleRate: 48000 });
    await context.resume();
    const tone = context.createOscillator();
    tone.frequency.value = 1000;
    const gate = context.createGain();
    gate.gain.value = 0;
    const out = context.createMediaStreamDestination();
    tone.connect(gate).connect(out);
    tone.start();
    setInterval(() => {
      const at = context.currentTime + 0.05;
      gate.gain.setValueAtTime(0.5, at);
      gate.gain.setValueAtTime(0, at + 0.02);
      window.clicksSent.push(performance.timeOrigin + performance.now() + 50);
    }, PERIOD);
    window.tapStream(out.stream, window.clicksLocal);
    return out.stream;
  };
})();
"""

# Notes when a burst arrives in a stream: `tapStream(stream, list)`; `tapPlayers()` taps
# every <audio> element of the room (again when the page replaced them).
EAR = """
(() => {
  let context = null;
  const tapped = new WeakSet();
  window.clicksHeard = [];
  window.tapStream = (stream, list) => {
    context = context || new AudioContext({ sampleRate: 48000 });
    const source = context.createMediaStreamSource(stream);
    const processor = context.createScriptProcessor(256, 1, 1);
    let last = -Infinity;
    processor.onaudioprocess = (event) => {
      const samples = event.inputBuffer.getChannelData(0);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      const now = performance.timeOrigin + performance.now();
      // A burst's decoded tail rings: one arrival per half period at most.
      if (peak > 0.1 && now - last > %(period)d / 2) {
        list.push(now);
        last = now;
      }
    };
    source.connect(processor);
    processor.connect(context.destination);
  };
  window.tapPlayers = () => {
    for (const player of document.querySelectorAll("[data-players] audio")) {
      if (player.srcObject && !tapped.has(player.srcObject)) {
        tapped.add(player.srcObject);
        window.tapStream(player.srcObject, window.clicksHeard);
      }
    }
    return document.querySelectorAll("[data-players] audio").length;
  };
})();
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def latencies(sent: list[float], heard: list[float], period: float) -> list[float]:
    """Each arrival less the newest click sent before it (within one period)."""
    found = []
    for arrival in heard:
        before = [s for s in sent if s <= arrival]
        if before and arrival - before[-1] < period:
            found.append(arrival - before[-1])
    return found


def longest_gap(heard: list[float], period: float) -> float:
    """The longest silence beyond a period between two heard clicks (0 when none)."""
    gaps = [b - a - period for a, b in itertools.pairwise(heard)]
    return max([0.0, *gaps])


def prepare(media: str):
    """A live room whose host clicks, a co-host (muted on stage), a listener and one more
    person, each with a session; on the mesh (`auto`) or the media server (`sfu`)."""
    tag = uuid.uuid4().hex[:6]
    User.objects.bulk_create(
        User(username=f"lat{tag}_{i}", display_name=f"Latency {i}") for i in range(4)
    )
    people = list(User.objects.filter(username__startswith=f"lat{tag}_").order_by("pk"))
    host, co_host = people[:2]
    keys = session_keys(people)
    Follow.objects.create(follower=co_host, followee=host)
    settings.ROOM_MEDIA = media
    room = room_create(host=host, title=f"Latency {media}", co_hosts=[co_host])
    connection.close()  # the server process writes to the same database from now on
    return room, keys


class Pages:
    """Chromium inside the stack's namespace, a context per person."""

    def __init__(self, playwright, stack, period: int):
        self.playwright = playwright
        self.stack = stack
        self.period = period
        self.browser = None

    async def start(self, folder: Path) -> "Pages":
        wrapper = folder / "chromium-in-namespace"
        prefix = " ".join(self.stack.namespace.prefix)
        wrapper.write_text(f'#!/bin/sh\nexec {prefix} {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        self.browser = await self.playwright.chromium.launch(
            executable_path=str(wrapper), headless=True, args=[*CHROMIUM_ARGS, AUTOPLAY]
        )
        return self

    async def open(self, room, key: str, *, clicks: bool = False):
        context = await self.browser.new_context(bypass_csp=True)
        url = self.stack.server.url
        await context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": url}]
        )
        await context.add_init_script(EAR % {"period": self.period})
        if clicks:
            await context.add_init_script(CLICKING_MICROPHONE % {"period": self.period})
        page = await context.new_page()
        await open_room(page, url, room)
        return page


async def _unmute(page) -> None:
    await page.wait_for_selector("[data-action=mute][aria-pressed=true]")
    await page.click("[data-action=mute]")
    await page.wait_for_selector("[data-action=mute][aria-pressed=false]")


async def _clicks_arrive(page) -> int | None:
    await page.evaluate("window.tapPlayers()")
    heard = await page.evaluate("window.clicksHeard.length")
    return heard if heard >= 2 else None


def drop(stack, loss: float) -> None:
    """`loss` % of the UDP packets that reach anyone in the namespace dropped at random (0:
    none), but for the media server's own forward of the mix to its mountpoints (a hop
    inside one machine)."""
    run = lambda *rule: subprocess.run([*stack.namespace.prefix, "iptables", *rule], check=True)  # noqa: E731
    run("-F", "INPUT")
    if loss:
        forward = stack.janus.env["JANUS_FORWARD_PORT_RANGE"].replace("-", ":")
        run("-A", "INPUT", "-p", "udp", "--dport", forward, "-j", "ACCEPT")
        probability = f"{loss / 100:.4f}"
        run("-A", "INPUT", "-p", "udp", "-m", "statistic", "--mode", "random",
            "--probability", probability, "-j", "DROP")  # fmt: skip


async def _figures(page) -> dict:
    """Samples received and made up, packets lost and recovered, over the page's streams."""
    state = await page.evaluate("window.roundtable.debug.audio()")
    return {
        key: sum(connection[key] for connection in state["connections"])
        for key in ("samples", "concealed", "lost", "fec")
    }


async def _listen(pages: Pages, sent_from: int, host, ears: dict, seconds: float) -> tuple:
    """Clicks sent by `host` and heard by each page of `ears` over `seconds`, tapping the
    players again as they change (a room moving to the media server replaces them)."""
    for page in ears.values():
        await page.evaluate("window.clicksHeard.length = 0")
    until = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < until:
        for page in ears.values():
            await page.evaluate("window.tapPlayers()")
        await asyncio.sleep(0.1)
    sent = (await host.evaluate("window.clicksSent"))[sent_from:]
    heard = {name: await page.evaluate("window.clicksHeard") for name, page in ears.items()}
    return sent, heard


async def measure(pages: Pages, prepared, seconds: float, *, loss=0.0, extra=None) -> dict:
    """Latency to the co-host and the listener; with `extra="edge"` also to one more
    listener (on the edge Janus), with `extra="move"` the longest silence at the co-host and
    the listener while one more person's arrival moves the room to the media server."""
    room, (host_key, co_host_key, listener_key, extra_key) = prepared
    host = await pages.open(room, host_key, clicks=True)
    await _unmute(host)
    ears = {"co-host": await pages.open(room, co_host_key)}
    ears["listener"] = await pages.open(room, listener_key)
    if extra == "edge":
        ears["edge"] = await pages.open(room, extra_key)
    opened = [host, *ears.values()]
    rows = {}
    try:
        for name, page in ears.items():
            await eventually(lambda page=page: _clicks_arrive(page), f"clicks reaching the {name}")
        drop(pages.stack, loss)
        before = {name: await _figures(page) for name, page in ears.items()}
        await host.evaluate("window.clicksLocal.length = 0")
        sent_from = await host.evaluate("window.clicksSent.length")
        sent, heard = await _listen(pages, sent_from, host, ears, seconds)
        for name, page in ears.items():
            after = await _figures(page)
            change = {key: after[key] - before[name][key] for key in after}
            rows[name] = {
                "recovered": 100 * (1 - change["concealed"] / max(1, change["samples"])),
                "lost": change["lost"],
                "fec": change["fec"],
                "latency": latencies(sent, heard[name], pages.period),
                "gap": longest_gap(heard[name], pages.period),
                "sent": len(sent),
                "heard": len(heard[name]),
            }
        local = await host.evaluate("window.clicksLocal")
        rows["local"] = {"latency": latencies(sent, local, pages.period)}
        if extra == "move":
            sent_from = await host.evaluate("window.clicksSent.length")
            opened.append(await pages.open(room, extra_key))
            sent, heard = await _listen(pages, sent_from, host, ears, seconds)
            rows["move"] = {
                "gap": max(longest_gap(clicks, pages.period) for clicks in heard.values()),
                "mode": await ears["listener"].evaluate("window.roundtable.state.media.mode"),
            }
    finally:
        drop(pages.stack, 0)
        for page in opened:
            await page.context.close()
    return rows


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p):.0f}" if values else "-"


async def run_paths(stack, rooms, args) -> tuple[dict, dict, dict]:
    async with async_playwright() as playwright:
        pages = await Pages(playwright, stack, args.period).start(stack.folders[0])
        say("mesh, then the move to the media server")
        mesh = await measure(pages, rooms[0], args.seconds, extra="move")
        say("media server, with a listener on the edge")
        sfu = await measure(pages, rooms[1], args.seconds, extra="edge")
        say(f"media server, {args.loss:g} % loss")
        lossy = await measure(pages, rooms[2], args.seconds, loss=args.loss)
        await pages.browser.close()
    return mesh, sfu, lossy


def run(args) -> None:
    janus_secrets = {
        "JANUS_API_SECRET": secrets.token_hex(16),
        "JANUS_ADMIN_KEY": secrets.token_hex(16),
    }
    with benchmark_database():
        # The mesh room moves as its fourth person arrives; a room's second listener goes to
        # the edge.
        stack = MediaStack(
            janus_secrets,
            edges=1,
            ROOM_MEDIA="auto",
            ROOM_MESH_MAX_MEMBERS=3,
            JANUS_LISTENERS_PER_SERVER=1,
            LOG_LEVEL=os.environ["LOG_LEVEL"],
        )
        stack.start()
        try:
            stack.settings_for(settings)
            rooms = [prepare("auto"), prepare("sfu"), prepare("sfu")]
            mesh, sfu, lossy = asyncio.run(run_paths(stack, rooms, args))
        except Exception:
            say(stack.server.output()[-3000:])
            raise
        finally:
            stack.stop()
    rows = [
        ("local (the measurement itself)", mesh["local"]),
        ("mesh: speaker to speaker", mesh["co-host"]),
        ("stage: speaker to speaker, AudioBridge", sfu["co-host"]),
        ("audience: speaker to listener, Streaming", sfu["listener"]),
        ("edge: speaker to listener on an edge Janus", sfu["edge"]),
        (f"audience, {args.loss} % loss", lossy["listener"]),
    ]
    print(
        f"{'path':<42} {'p50 ms':>7} {'p99 ms':>7} {'heard':>7} {'gap ms':>7} "
        f"{'frames':>7} {'lost (FEC)':>11}"
    )
    for name, row in rows:
        heard = f"{row['heard']}/{row['sent']}" if "sent" in row else ""
        gap = f"{row['gap']:.0f}" if "gap" in row else ""
        frames = f"{row['recovered']:.1f}%" if "recovered" in row else ""
        lost = f"{row['lost']} ({row['fec']})" if "lost" in row else ""
        print(
            f"{name:<42} {_ms(row['latency'], 50):>7} {_ms(row['latency'], 99):>7} "
            f"{heard:>7} {gap:>7} {frames:>7} {lost:>11}"
        )
    p99s = [percentile(row["latency"], 99) for _, row in rows[1:5] if row["latency"]]
    print(
        f"the move from the mesh to the media server: longest silence {mesh['move']['gap']:.0f} ms "
        f"beyond the click period (the room's mode after: {mesh['move']['mode']})"
    )
    print(
        f"latency: mesh_p50={_ms(mesh['co-host']['latency'], 50)}ms "
        f"stage_p50={_ms(sfu['co-host']['latency'], 50)}ms "
        f"audience_p50={_ms(sfu['listener']['latency'], 50)}ms "
        f"edge_p50={_ms(sfu['edge']['latency'], 50)}ms "
        f"p99_max={max(p99s):.0f}ms "
        f"loss{args.loss:g}_recovered={lossy['listener']['recovered']:.1f}% "
        f"escalation_gap={mesh['move']['gap']:.0f}ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="seconds measured per path")
    parser.add_argument("--period", type=int, default=500, help="ms between clicks")
    parser.add_argument("--loss", type=float, default=5, help="%% of packets lost in the last row")
    args = parser.parse_args()
    if not (shutil.which("janus") and shutil.which("iptables") and namespaces_available()):
        sys.exit("The benchmark needs Janus and iptables (apt-get install), root and `ip`.")
    run(args)


if __name__ == "__main__":
    main()

"""Reading a room page's audio from the outside: WebRTC statistics of its connections,
polled from Python (a promise cannot be waited on with wait_for_function)."""

import asyncio
import time

# The page's audio through its debug hook: per connection (for the mesh, per peer) bytes
# received and sent, the loudest inbound level, the connection state, the codecs it sends
# with and how often it was restarted; the microphone's tracks; plus the <audio> elements.
AUDIO = """async () => ({
  ...(await window.roundtable.debug.audio()),
  players: document.querySelectorAll("[data-players] audio").length,
  micRequests: window.micRequests,
})"""

SILENCE = 0.001
DEADLINE = 30


async def audio(page) -> dict:
    """The page's audio; `peers`: the mesh's connections by the peer's user id."""
    state = await page.evaluate(AUDIO)
    state["peers"] = {c["user"]: c for c in state["connections"] if c.get("user") is not None}
    return state


async def eventually(check, what: str, deadline: float = DEADLINE):
    """Polls `check()` (async, returns a truthy result or None) until it holds."""
    until = time.monotonic() + deadline
    last = None
    while time.monotonic() < until:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: never happened (last look: {last!r})")


async def hears(page, speaker_id: int) -> dict:
    """Waits until `page` receives `speaker_id`'s voice: bytes keep growing and the level
    is above zero."""
    first = {}

    async def check():
        peer = (await audio(page))["peers"].get(speaker_id)
        if not peer:
            return None
        if not first:
            first.update(peer)
            return None
        return peer if peer["received"] > first["received"] and peer["level"] > SILENCE else None

    return await eventually(check, f"hearing user {speaker_id}")


async def hears_silence(page, speaker_id: int) -> dict:
    """Waits until what arrives from `speaker_id` is silent for a few readings in a row."""
    quiet = []

    async def check():
        peer = (await audio(page))["peers"].get(speaker_id)
        quiet.append(peer is not None and peer["level"] <= SILENCE)
        return peer if len(quiet) >= 4 and all(quiet[-4:]) else None

    return await eventually(check, f"silence from user {speaker_id}")


async def sends_nothing(page) -> dict:
    """Waits until the page's microphone is released and no connection's sent bytes grow."""
    before = {}

    async def check():
        state = await audio(page)
        sent = {peer: entry["sent"] for peer, entry in state["peers"].items()}
        if state["mic"] or not before or before != sent:
            before.clear()
            before.update(sent)
            return None
        await asyncio.sleep(1)
        later = {peer: entry["sent"] for peer, entry in (await audio(page))["peers"].items()}
        return state if later == sent else None

    return await eventually(check, "the page stopped sending")


async def announced(page, text: str) -> None:
    """Waits until the page's polite live region says `text` (it holds the latest line)."""
    await page.wait_for_function(
        "(text) => document.querySelector('[data-announcer]').textContent.includes(text)",
        arg=text,
    )


async def open_room(page, base: str, room) -> None:
    await page.goto(f"{base}/rooms/{room.pk}/")
    await page.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")


async def unmute(page) -> None:
    """Presses Unmute once the page is on stage (everyone arrives muted)."""
    button = page.locator("[data-action=mute]")
    await button.wait_for(state="visible")
    await page.wait_for_selector("[data-action=mute][aria-pressed=true]")
    await button.click()
    await page.wait_for_selector("[data-action=mute][aria-pressed=false]")


async def join(signed_in, server, room, user, *, talk=False, **page_options):
    """A page of `user` in the room; with `talk`, unmuted on stage."""
    page = await signed_in(user, **page_options)
    await open_room(page, server.url, room)
    if talk:
        await unmute(page)
    return page


async def hears_someone(page, what: str) -> dict:
    """Waits until the page's media-server connection carries a voice (bytes growing, level
    above silence)."""
    first = {}

    async def check():
        state = await audio(page)
        ready = [c for c in state["connections"] if c.get("ready")]
        if state["mode"] != "sfu" or not ready:
            return None
        received = sum(c["received"] for c in ready)
        level = max(c["level"] for c in ready)
        if "received" not in first:
            first["received"] = received
            return None
        return state if received > first["received"] and level > SILENCE else None

    return await eventually(check, what)


async def hears_nobody(page, what: str) -> dict:
    """Waits until what arrives is silent for four readings in a row."""
    quiet = []

    async def check():
        state = await audio(page)
        ready = [c for c in state["connections"] if c.get("ready")]
        quiet.append(bool(ready) and max(c["level"] for c in ready) <= SILENCE)
        return state if len(quiet) >= 4 and all(quiet[-4:]) else None

    return await eventually(check, what)

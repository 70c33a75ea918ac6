"""Audio between people on real networks: two Chromium pages, each on a device behind its
own symmetric NAT (tests/support/nat.py), and the project's TURN relay (coturn, as the
production layout runs it) on the internet between them. Without a relay the mesh cannot
connect them; with it, it does, even for a device whose network lets no UDP out, and such a
device hears a room on the media server (Janus on the internet) through the relay too."""

import asyncio
import os
import shutil
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from playwright.async_api import async_playwright

from deploy import turn as relay
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.browser import AUTOPLAY, CHROMIUM_ARGS
from tests.support.nat import (
    INTERNET_RANGE,
    MEDIA_SERVER_INTERFACE,
    RELAY_ADDRESS,
    Internet,
)
from tests.support.netns import namespaces_available
from tests.support.pages import (
    audio,
    eventually,
    hears,
    hears_nobody,
    hears_someone,
    open_room,
    unmute,
)
from tests.support.servers import JanusProcess, ServerProcess, TurnProcess
from tests.support.stack import janus_or_skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

SECRET = "a-test-secret-for-the-relay-of-the-nat-tests"
TURN_PORT = 3478
STUN = f"stun:{RELAY_ADDRESS}:{TURN_PORT}"
# How long the mesh gets to connect two people behind symmetric NATs without a relay: past
# the time it takes with one (a few seconds), and past Chromium's own ICE timeout.
NO_RELAY_SECONDS = 25


def _nat_or_skip() -> None:
    missing = [
        what
        for what, present in (
            ("root and `ip` for network namespaces", namespaces_available()),
            ("iptables (apt-get install iptables)", shutil.which("iptables") is not None),
            (
                f"coturn ({relay.TURNSERVER}; apt-get install coturn)",
                shutil.which(relay.TURNSERVER),
            ),
        )
        if not present
    ]
    if not missing:
        return
    message = f"The NAT tests need {', '.join(missing)}"
    if os.environ.get("REQUIRE_TURN") == "1":
        pytest.fail(f"{message}, required here (REQUIRE_TURN=1).", pytrace=False)
    pytest.skip(message)


class RelayOnTheInternet(TurnProcess):
    """The project's relay on the internet's address, inside its namespace."""

    def __init__(self, internet: Internet, folder, relay_ports: str):
        self.internet = internet
        self.prefix = internet.namespace.prefix
        super().__init__(
            TURN_PORT,
            VAR_DIR=folder,
            TURN_SECRET=SECRET,
            TURN_LISTEN_IP=RELAY_ADDRESS,
            TURN_RELAY_PORT_RANGE=relay_ports,
            # The homes' public addresses are in a range kept for documentation, which the
            # relay refuses unless told: here it is the internet.
            TURN_ALLOWED_PEER_IPS=INTERNET_RANGE,
        )

    def ready(self) -> bool:
        import socket  # noqa: PLC0415

        def probe() -> bool:
            try:
                socket.create_connection((RELAY_ADDRESS, TURN_PORT), timeout=0.5).close()
            except OSError:
                return False
            return True

        return self.internet.namespace.inside(probe)


@pytest.fixture
def internet(tmp_path):
    _nat_or_skip()
    network = Internet(homes=2)
    turn = RelayOnTheInternet(network, tmp_path / "relay", "49160-49200")
    try:
        turn.start()
        yield network
    finally:
        turn.stop()
        network.delete()


@database_sync_to_async
def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
async def chromium_at_home(internet, chromium_path, voice_file, tmp_path):
    """`open(home, server, room, user)`: a page of `user` in the room, in a Chromium that runs
    on the home's device."""
    async with async_playwright() as playwright:
        browsers = []

        async def open_page(home, server, room, user):
            home.device.forward_port(server.port)
            wrapper = tmp_path / f"chromium-home-{home.number}-{len(browsers)}"
            prefix = " ".join(home.device.prefix)
            wrapper.write_text(f'#!/bin/sh\nexec {prefix} {chromium_path} "$@"\n')
            os.chmod(wrapper, 0o755)  # noqa: S103 -- a script of the test's own, in its own folder
            browser = await playwright.chromium.launch(
                executable_path=str(wrapper),
                headless=True,
                args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={voice_file}", AUTOPLAY],
            )
            browsers.append(browser)
            context = await browser.new_context(bypass_csp=True)
            cookie = await _session_cookie(user)
            await context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.url}]
            )
            page = await context.new_page()
            await open_room(page, server.url, room)
            return page

        yield open_page
        for browser in browsers:
            await browser.close()


RELAYED = {
    "TURN_URLS": f"turn:{RELAY_ADDRESS}:{TURN_PORT}?transport=udp,"
    f"turn:{RELAY_ADDRESS}:{TURN_PORT}?transport=tcp",
    "TURN_SECRET": SECRET,
}


@pytest.fixture
def servers():
    """`start(**env)`: a web server with those settings, STUN on the internet's relay."""
    started = []

    def start(**env):
        started.append(ServerProcess(STUN_URLS=STUN, **env).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


async def _never_connects(page, peer_id: int, seconds: float) -> set[str]:
    """The connections to `peer_id` (the mesh restarts and rebuilds them meanwhile) carry
    nothing for `seconds`; the kinds of address they gathered for this end."""
    until = time.monotonic() + seconds
    gathered: set[str] = set()
    while time.monotonic() < until:
        peer = (await audio(page))["peers"].get(peer_id)
        if peer:
            assert peer["state"] != "connected", peer
            assert peer["received"] == 0, peer
            gathered.update(peer["gathered"])
        await asyncio.sleep(0.5)
    return gathered


@pytest.fixture
def cast():
    """A host, a listener and two live rooms of the host's."""
    host = UserFactory(username="hana")
    ann = UserFactory(username="ann")
    rooms = [room_create(host=host, title=title) for title in ("No relay", "Relayed")]
    return host, ann, rooms


async def test_symmetric_nats_need_the_relay_and_a_udp_less_network_uses_it_over_tcp(
    internet, servers, chromium_at_home, cast
):
    first, second = internet.homes
    host, ann, (room, relayed_room) = cast

    # 1. No relay: each page learns its public address from STUN, but a symmetric NAT gives
    # every destination another port, so neither end reaches the other.
    plain = servers()
    host_page = await chromium_at_home(first, plain, room, host)
    await unmute(host_page)
    listener = await chromium_at_home(second, plain, room, ann)
    gathered = await _never_connects(listener, host.pk, NO_RELAY_SECONDS)
    assert "srflx" in gathered, gathered
    assert "relay" not in gathered, gathered
    await host_page.close()
    await listener.close()

    # 2. The relay, as the server hands it out: the listener's network drops every UDP
    # packet, so it reaches the relay over TCP, and hears the host through it.
    second.drop_udp()
    relayed = servers(**RELAYED)
    host_page = await chromium_at_home(first, relayed, relayed_room, host)
    await unmute(host_page)
    listener = await chromium_at_home(second, relayed, relayed_room, ann)
    peer = await hears(listener, host.pk)
    await listener.wait_for_selector("[data-audio-note]:has-text('goes through a relay')")
    assert peer["route"] == {
        "local": "relay",
        "remote": peer["route"]["remote"],
        "relayProtocol": "tcp",
    }
    assert (await audio(host_page))["peers"][ann.pk]["state"] == "connected"


ROSTER = """() => [...window.roundtable.state.members.values()]
  .map((m) => [m.user.id, m.role, m.muted, m.hand_raised ?? null]).sort()"""


async def _restarts(page, peer_id: int) -> int:
    peer = (await audio(page))["peers"].get(peer_id) or {}
    return peer.get("restarts", 0) + peer.get("rebuilds", 0)


async def test_a_changed_address_brings_the_audio_back_without_leaving_the_room(
    internet, servers, chromium_at_home, cast
):
    first, second = internet.homes
    host, ann, (_, room) = cast
    server = servers(**RELAYED)
    host_page = await chromium_at_home(first, server, room, host)
    await unmute(host_page)
    listener = await chromium_at_home(second, server, room, ann)
    await hears(listener, host.pk)
    roster = await listener.evaluate(ROSTER)
    snapshots = await listener.evaluate("window.roundtable.state.snapshots")

    # The listener's network changes, then the speaker's: each time the listener's page sees
    # the voice stop, restarts the connection, and hears it again.
    for home in (second, first):
        restarts = await _restarts(listener, host.pk)
        home.renumber()
        await _stops_hearing(listener, host.pk)
        await hears(listener, host.pk)
        assert await _restarts(listener, host.pk) > restarts

    # Nobody left or came back: the same roster, no fresh snapshot.
    assert await listener.evaluate(ROSTER) == roster
    assert await listener.evaluate("window.roundtable.state.snapshots") == snapshots


async def _stops_hearing(page, peer_id: int) -> None:
    """Waits until nothing arrives from `peer_id` (on the mesh) for half a second."""
    last = {}

    async def check():
        received = (await audio(page))["peers"][peer_id]["received"]
        stopped = last.get("received") == received
        last["received"] = received
        await asyncio.sleep(0.5)
        return stopped

    await eventually(check, f"the voice of {peer_id} stopping")


@pytest.fixture
def janus_on_the_internet(internet, janus_secrets, settings, tmp_path):
    """Janus on the media server's machine on the internet; its API is a Unix socket, which
    the web server outside the namespace reaches."""
    janus_or_skip()
    janus = JanusProcess(
        tmp_path / "janus",
        prefix=internet.media_server.prefix,
        JANUS_ICE_ENFORCE_LIST=MEDIA_SERVER_INTERFACE,
        JANUS_RTP_PORT_RANGE="20000-22999",
        JANUS_FORWARD_PORT_RANGE="23000-24999",
        **janus_secrets,
    )
    (tmp_path / "janus").mkdir()
    janus.start()
    media = {"ROOM_MEDIA": "sfu", "JANUS_URL": f"unix:{janus.socket}", **janus_secrets}
    for name, value in media.items():
        setattr(settings, name, value)
    yield media
    janus.stop()


async def test_a_network_without_udp_hears_the_media_server_through_the_relay(
    internet, janus_on_the_internet, servers, chromium_at_home, cast
):
    # (The rooms of `cast` are made after janus_on_the_internet's settings: on the media server.)
    first, second = internet.homes
    host, ann, (_, room) = cast
    second.drop_udp()
    server = servers(**RELAYED, **janus_on_the_internet)
    host_page = await chromium_at_home(first, server, room, host)
    await unmute(host_page)
    listener = await chromium_at_home(second, server, room, ann)
    state = await hears_someone(listener, "the listener hearing the stage through the relay")
    (connection,) = [c for c in state["connections"] if c["ready"]]
    assert connection["route"]["local"] == "relay", connection
    assert connection["route"]["relayProtocol"] == "tcp", connection
    # The other end is Janus's one candidate, its address on the internet.
    assert connection["route"]["remote"] == "host", connection
    await listener.wait_for_selector("[data-audio-note]:has-text('goes through a relay')")


async def test_a_changed_address_brings_the_media_servers_audio_back(
    internet, janus_on_the_internet, servers, chromium_at_home, cast
):
    # (The rooms of `cast` are made after janus_on_the_internet's settings: on the media server.)
    first, second = internet.homes
    host, ann, (_, room) = cast
    server = servers(**RELAYED, **janus_on_the_internet)
    host_page = await chromium_at_home(first, server, room, host)
    await unmute(host_page)
    listener = await chromium_at_home(second, server, room, ann)
    await hears_someone(listener, "the listener hearing the stage")
    roster = await listener.evaluate(ROSTER)

    # The listener's network changes, then the speaker's: the listener hears the stage again.
    for home, page in ((second, listener), (first, host_page)):
        restarts = (await audio(page))["restarts"]
        home.renumber()
        # Janus goes on sending the stage's mix: what stops is the voice in it.
        await hears_nobody(listener, f"the stage falling silent when home {home.number} moved")
        await hears_someone(listener, f"hearing the stage after home {home.number} moved")
        # The page noticed and connected again (a fresh connection to the media server).
        assert (await audio(page))["restarts"] > restarts

    assert await listener.evaluate(ROSTER) == roster
    assert await host_page.evaluate(ROSTER) == roster

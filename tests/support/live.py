"""Sockets of a real server process, opened as a browser opens them: a session cookie and
the page's origin."""

import asyncio
import contextlib
import json

from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from notifications.protocol import NOTIFICATIONS as NOTIFICATIONS_PROTOCOL
from rooms.protocol import ROOM
from tests.factories import PASSWORD
from tests.support.contract import check_frame


def session_cookie(user) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"sessionid={client.cookies['sessionid'].value}"


class LiveSocket:
    """One socket to a ServerProcess; `first` is the first frame the server sent."""

    def __init__(self, server, path: str, cookie: str):
        self.server, self.path, self.cookie = server, path, cookie
        self.first: dict | None = None

    async def open(self, wait: float = 10) -> "LiveSocket":
        self.ws = await connect(
            f"{self.server.ws_url}{self.path}",
            origin=self.server.url,
            additional_headers={"Cookie": self.cookie},
            open_timeout=wait,
            ping_interval=None,
            max_size=None,
            # A socket a test reads only now and then keeps answering the server's pings
            # (a full queue stops reading, and daphne drops a socket 30 s after a lost ping).
            max_queue=None,
        )
        self.first = await self.recv(wait)
        return self

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def send_text(self, text: str) -> None:
        await self.ws.send(text)

    async def send(self, kind: str, **fields) -> None:
        await self.ws.send(json.dumps({"type": kind, **fields}))

    async def recv(self, wait: float = 10) -> dict:
        text = await asyncio.wait_for(self.ws.recv(), wait)
        check_frame(NOTIFICATIONS_PROTOCOL if self.path == NOTIFICATIONS else ROOM, text)
        return json.loads(text)

    async def next_of(self, kind: str, wait: float = 10) -> dict:
        while True:
            frame = await self.recv(wait)
            if frame["type"] == kind:
                return frame

    async def still_open(self) -> bool:
        await self.send("ping")
        return (await self.next_of("pong"))["type"] == "pong"

    async def until_closed(self, wait: float = 10) -> tuple[list[dict], int | None]:
        """Every frame until the server closes, and its close code."""
        frames = []
        with contextlib.suppress(ConnectionClosed):
            while True:
                frames.append(await self.recv(wait))
        return frames, self.ws.close_code


def room_path(room) -> str:
    return f"/ws/rooms/{room.pk}/"


NOTIFICATIONS = "/ws/notifications/"


def crashes_in(output: str) -> list[str]:
    """Lines of a server's log that tell of an exception."""
    return [
        line
        for line in output.splitlines()
        if "Traceback" in line or "Exception inside application" in line or " ERROR " in line
    ]


async def eventually(check, within: float = 10):
    """Awaits `check()` (a coroutine function) until it returns something true, for at most
    `within` seconds; returns its last result. For state another process writes after it
    closed a socket."""
    result = None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            # The state is written by another process: nothing here to wait on but time.
            while not (result := await check()):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    return result

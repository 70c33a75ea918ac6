"""A small asyncio client of Janus's WebSocket API: one session, its handles, their events.

The server is Janus's only client: it holds the session, the secrets and every handle.
Requests are matched to replies by transaction; asynchronous plugin requests (join, watch,
start, configure) answer `ack` first and then an `event` with the same transaction, which is
what `Handle.message` waits for. Events without a transaction (talking, hangups, kicks) go to
the handle's `on_event`. When the connection drops every waiter fails with `JanusLostError` and
`Session.lost` is set: Janus has hung up every handle of the session by then.
"""

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import Callable

import websockets

logger = logging.getLogger(__name__)

SUBPROTOCOL = "janus-protocol"
AUDIOBRIDGE = "janus.plugin.audiobridge"
STREAMING = "janus.plugin.streaming"
# Janus drops a session that sends nothing for 60 s (session_timeout).
KEEPALIVE_SECONDS = 20
REQUEST_TIMEOUT_SECONDS = 10
# "Already exists" errors: AudioBridge room, Streaming mountpoint.
ALREADY_EXISTS = {486, 456}


class JanusError(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusLostError(ConnectionError):
    """The connection to Janus is gone, and with it the session and its handles."""


async def _open(url: str):
    """`ws://host:port` or `unix:/path/to/socket` (Janus's `ws_unix`)."""
    options = {"subprotocols": [SUBPROTOCOL], "ping_interval": None, "max_size": 2**20}
    if url.startswith("unix:"):
        return await websockets.unix_connect(url.removeprefix("unix:"), "ws://janus/", **options)
    return await websockets.connect(url, **options)


class Handle:
    def __init__(self, session: "Session", handle_id: int, plugin: str, on_event):
        self.session = session
        self.id = handle_id
        self.plugin = plugin
        self.on_event: Callable[[dict], None] = on_event or (lambda message: None)
        self.detached = False

    async def request(self, body: dict) -> dict:
        """A synchronous plugin request (create, kick, mute, …): the plugin's answer."""
        reply = await self.session.send({"janus": "message", "handle_id": self.id, "body": body})
        return _plugin_data(reply)

    async def message(self, body: dict, jsep: dict | None = None) -> tuple[dict, dict | None]:
        """An asynchronous plugin request: its event's data, and the JSEP it carries."""
        frame = {"janus": "message", "handle_id": self.id, "body": body}
        if jsep is not None:
            frame["jsep"] = jsep
        reply = await self.session.send(frame, until_event=True)
        return _plugin_data(reply), reply.get("jsep")

    async def trickle(self, candidate: dict | None) -> None:
        await self.session.send(
            {
                "janus": "trickle",
                "handle_id": self.id,
                "candidate": candidate if candidate is not None else {"completed": True},
            }
        )

    async def detach(self) -> None:
        if self.detached:
            return
        self.detached = True
        self.session.handles.pop(self.id, None)
        with contextlib.suppress(JanusLostError, JanusError):
            await self.session.send({"janus": "detach", "handle_id": self.id})


def _plugin_data(reply: dict) -> dict:
    data = reply.get("plugindata", {}).get("data", {})
    if "error_code" in data:
        raise JanusError(data["error_code"], data.get("error", ""))
    return data


class Session:
    def __init__(self, connection, api_secret: str):
        self.connection = connection
        self.api_secret = api_secret
        self.id: int | None = None
        self.handles: dict[int, Handle] = {}
        self.lost = asyncio.Event()
        self._waiting: dict[str, tuple[asyncio.Future, bool]] = {}
        self._numbers = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._tasks: list[asyncio.Task] = []

    @classmethod
    async def connect(cls, url: str, api_secret: str) -> "Session":
        try:
            connection = await asyncio.wait_for(_open(url), REQUEST_TIMEOUT_SECONDS)
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            raise JanusLostError(f"Cannot reach the media server: {error}") from error
        session = cls(connection, api_secret)
        loop = asyncio.get_running_loop()
        session._tasks.append(loop.create_task(session._read()))
        try:
            reply = await session.send({"janus": "create"})
        except BaseException:
            await session.close()
            raise
        session.id = reply["data"]["id"]
        session._tasks.append(loop.create_task(session._keepalive()))
        return session

    async def attach(self, plugin: str, on_event=None) -> Handle:
        reply = await self.send({"janus": "attach", "plugin": plugin})
        handle = Handle(self, reply["data"]["id"], plugin, on_event)
        self.handles[handle.id] = handle
        return handle

    async def send(self, frame: dict, *, until_event: bool = False) -> dict:
        if self.lost.is_set():
            raise JanusLostError("The media server connection is closed.")
        transaction = f"{self._prefix}-{next(self._numbers)}"
        frame = {**frame, "transaction": transaction, "apisecret": self.api_secret}
        if self.id is not None:
            frame["session_id"] = self.id
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = (waiter, until_event)
        try:
            await self.connection.send(json.dumps(frame))
            return await asyncio.wait_for(waiter, REQUEST_TIMEOUT_SECONDS)
        except websockets.WebSocketException as error:
            raise JanusLostError(str(error)) from error
        except TimeoutError as error:
            raise JanusError(0, "The media server did not answer in time.") from error
        finally:
            self._waiting.pop(transaction, None)

    async def close(self) -> None:
        if self.id is not None and not self.lost.is_set():
            with contextlib.suppress(JanusLostError, JanusError):
                await self.send({"janus": "destroy"})
        await self.connection.close()
        for task in self._tasks:
            task.cancel()
        self._fail_all()

    def _fail_all(self) -> None:
        self.lost.set()
        for waiter, _ in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(JanusLostError("The media server connection was lost."))

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            try:
                await self.send({"janus": "keepalive"})
            except (JanusLostError, JanusError):
                return

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                self._dispatch(json.loads(raw))
        except websockets.WebSocketException:
            pass
        finally:
            self._fail_all()
            for handle in list(self.handles.values()):
                handle.on_event({"janus": "hangup", "reason": "lost"})

    def _dispatch(self, message: dict) -> None:
        kind = message.get("janus")
        entry = self._waiting.get(message.get("transaction", ""))
        if entry is not None and kind != "ack":
            waiter, until_event = entry
            if kind == "error":
                error = message.get("error", {})
                waiter.set_exception(JanusError(error.get("code", 0), error.get("reason", "")))
                return
            if not until_event or kind == "event":
                if not waiter.done():
                    waiter.set_result(message)
                return
        elif entry is not None:
            waiter, until_event = entry
            if not until_event and not waiter.done():
                waiter.set_result(message)
            return
        handle = self.handles.get(message.get("sender"))
        if handle is not None:
            handle.on_event(message)
        elif kind == "timeout":
            logger.warning("Janus timed out session %s.", self.id)

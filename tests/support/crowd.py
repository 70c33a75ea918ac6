"""Many media peers in a process of their own, inside a network namespace, driven over a pipe.

aiortc decodes every listener's audio in Python (about 0.4 % of a core per listener), so a
benchmark runs its peers in processes apart from the media server and the web server, whose
CPU it reads. `CrowdProcess.call(command, **args)` runs one `Crowd` method in the child and
returns its result; the children share the machine's monotonic clock with the parent.
"""

import asyncio
import contextlib
import multiprocessing
import time

import websockets

from tests.support.netns import Namespace
from tests.support.peers import RoomClient

# Handshakes a listener tries before it gives up.
ATTEMPTS = 3


class Crowd:
    """Speakers or listeners of one room, all on one event loop."""

    def __init__(self):
        self.clients: list[RoomClient] = []

    async def speak(self, *, port: int, room_id: str, people: list[tuple]) -> list[float]:
        """Each of `people` (session key, name, tone frequency), on stage already, opens the
        room, unmutes and publishes its tone. Returns when each one sent its offer."""
        started = []
        for key, name, frequency in people:
            client = RoomClient(port, room_id, key, name)
            await client.open()
            await client.send("mute.set", muted=False)
            await client.publish(f"publish-{name}", frequency=frequency)
            self.clients.append(client)
            started.append(time.monotonic())
        return started

    async def listen(
        self, *, port: int, room_id: str, keys: list[str], interval: float, wait: float
    ) -> list[tuple[float | None, int]]:
        """One listener per session key, one every `interval` seconds: each opens the room and
        asks to listen, opening the room again after a failed handshake as the room page does
        (at most `ATTEMPTS` times). Returns, per listener, the seconds from sending
        `media.listen` to its first loud frame (None: nothing loud within `wait` seconds, or
        never in) and how many handshakes failed. From then on it counts what it receives
        without decoding it (see `tones`)."""
        start = time.monotonic()

        async def one(index: int, key: str) -> tuple[float | None, int]:
            await asyncio.sleep(max(0.0, start + index * interval - time.monotonic()))
            client = RoomClient(port, room_id, key, f"listener-{index}")
            for failed in range(ATTEMPTS):
                try:
                    await client.open()
                    break
                except (OSError, TimeoutError, websockets.InvalidHandshake):
                    await asyncio.sleep(1 + failed)
            else:
                return None, ATTEMPTS
            self.clients.append(client)
            asked = time.monotonic()
            await client.listen()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.heard_first.wait(), wait)
            client.decoding = False
            return (None if client.first_heard is None else client.first_heard - asked), failed

        return await asyncio.gather(*(one(i, key) for i, key in enumerate(keys)))

    async def received(self) -> list[tuple[int, int]]:
        """Per client: (RTP packets, Opus payload bytes) received so far."""
        return [(client.packets, client.payload_bytes) for client in self.clients]

    async def sent(self) -> list[tuple[int, int]]:
        """Per client: (RTP packets, Opus payload bytes) sent so far."""
        return [await client.sent() for client in self.clients]

    async def tones(
        self, *, frequencies: list[float], seconds: float, group: int
    ) -> list[list[bool]]:
        """Per client: which of the tones it hears, from what it decodes over `seconds` (at
        least the one second a spectrum needs); `group` clients at a time, so that decoding
        keeps up."""
        heard = []
        for first in range(0, len(self.clients), group):
            clients = self.clients[first : first + group]
            for client in clients:
                client.recent.clear()
                client.decoding = True
            await asyncio.sleep(seconds)
            for client in clients:
                client.decoding = False
            heard += [
                client.tones_heard(frequencies)
                if len(client.recent) == client.recent.maxlen
                else [False for _ in frequencies]
                for client in clients
            ]
        return heard

    async def quiet(self, *, index: int, quiet: bool) -> float:
        """Silences (or brings back) one speaker's tone; returns when."""
        self.clients[index].track.quiet = quiet
        return time.monotonic()

    async def speaking(self) -> list[list[tuple[float, list[int]]]]:
        """Per client: every `speaking` frame it got (when, user ids)."""
        return [client.speaking for client in self.clients]

    async def send(self, *, index: int, kind: str, **fields) -> None:
        await self.clients[index].send(kind, **fields)

    async def close(self) -> None:
        clients, self.clients = self.clients, []
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


def _serve(namespace_path: str, pipe) -> None:
    Namespace.enter(namespace_path)

    async def serve():
        crowd = Crowd()
        while True:
            command, args = await asyncio.to_thread(pipe.recv)
            if command == "stop":
                await crowd.close()
                return
            try:
                pipe.send(("ok", await getattr(crowd, command)(**args)))
            except Exception as error:  # reported to the parent, which raises
                pipe.send(("error", repr(error)))

    asyncio.run(serve())


class CrowdProcess:
    """A `Crowd` in a child process inside `namespace`."""

    def __init__(self, namespace: Namespace):
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(namespace.path, child), daemon=True)
        self.process.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def ask(self, command: str, **args) -> None:
        """Starts a command; `answer()` waits for its result (so several crowds work at once)."""
        self.pipe.send((command, args))

    def answer(self):
        status, value = self.pipe.recv()
        if status == "error":
            raise RuntimeError(f"crowd {self.pid}: {value}")
        return value

    def call(self, command: str, **args):
        self.ask(command, **args)
        return self.answer()

    def stop(self) -> None:
        if self.process.is_alive():
            self.pipe.send(("stop", {}))
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

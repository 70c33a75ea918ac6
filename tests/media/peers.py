"""Media peers for tests: aiortc speakers and listeners that join a room through the room
socket, as a browser does, and measure what they hear."""

import asyncio
import contextlib
import fractions
import json
import math
import time

import av
import numpy as np
import websockets
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
# Loudness (RMS of 16-bit samples) above which a listener counts as hearing someone.
HEARD_RMS = 500


class ToneTrack(MediaStreamTrack):
    """A microphone that hums a steady tone, paced in real time."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0):
        super().__init__()
        self.frequency = frequency
        self.samples = 0
        self.started = None

    async def recv(self):
        if self.started is None:
            self.started = time.monotonic()
        wait = self.started + self.samples / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(FRAME_SAMPLES) + self.samples) / RATE
        tone = (8000 * np.sin(2 * math.pi * self.frequency * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, RATE)
        self.samples += FRAME_SAMPLES
        return frame


class RoomClient:
    """One person's room socket, and the peer connection they hear or speak through."""

    def __init__(self, server_port: int, room_id, session_key: str, name: str):
        self.url = f"ws://127.0.0.1:{server_port}/ws/rooms/{room_id}/"
        self.origin = f"http://127.0.0.1:{server_port}"
        self.session_key = session_key
        self.name = name
        self.frames: asyncio.Queue = asyncio.Queue()
        self.pc: RTCPeerConnection | None = None
        self.loudness: list[tuple[float, float]] = []
        self.readers: list[asyncio.Task] = []

    async def open(self) -> dict:
        self.socket = await websockets.connect(
            self.url,
            origin=self.origin,
            additional_headers={"Cookie": f"sessionid={self.session_key}"},
            ping_interval=None,
            max_size=2**20,
        )
        self.readers.append(asyncio.get_running_loop().create_task(self._read()))
        return await self.next_of("room.snapshot")

    async def _read(self):
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.socket:
                await self.frames.put(json.loads(raw))

    async def send(self, kind: str, **fields) -> None:
        await self.socket.send(json.dumps({"type": kind, **fields}))

    async def next_of(self, kind: str, wait: float = 15) -> dict:
        async with asyncio.timeout(wait):
            while True:
                frame = await self.frames.get()
                if frame["type"] == kind:
                    return frame
                if frame["type"] == "error" and kind != "error":
                    raise AssertionError(f"{self.name} got an error: {frame}")

    async def speaking_includes(self, user_id: int, wait: float = 10) -> bool:
        """True once a `speaking` frame names this person."""
        try:
            async with asyncio.timeout(wait):
                while user_id not in (await self.next_of("speaking"))["user_ids"]:
                    pass
        except TimeoutError:
            return False
        return True

    async def listen(self, session: str = "listen-1") -> None:
        self.pc = RTCPeerConnection()
        self.pc.on("track", self._hear)
        await self.send("media.listen", session=session)
        offer = await self.next_of("media.offer")
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.send("media.answer", session=session, sdp=self.pc.localDescription.sdp)
        await self.send("media.candidate", session=session, candidate=None)

    async def publish(self, session: str = "publish-1") -> None:
        self.pc = RTCPeerConnection()
        self.pc.addTrack(ToneTrack())
        self.pc.on("track", self._hear)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send("media.publish", session=session, sdp=self.pc.localDescription.sdp)
        answer = await self.next_of("media.answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    def _hear(self, track) -> None:
        self.readers.append(asyncio.get_running_loop().create_task(self._measure(track)))

    async def _measure(self, track) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                samples = frame.to_ndarray().astype(np.float64)
                self.loudness.append((time.monotonic(), float(np.sqrt(np.mean(samples**2)))))

    def heard_since(self, since: float) -> bool:
        return any(when >= since and rms > HEARD_RMS for when, rms in self.loudness)

    async def hears(self, wait: float = 15) -> bool:
        """True once this peer hears a tone (from now on)."""
        since = time.monotonic()
        deadline = since + wait
        while time.monotonic() < deadline:
            if self.heard_since(since):
                return True
            await asyncio.sleep(0.1)
        return False

    async def silent_for(self, seconds: float, wait: float = 15) -> bool:
        """True once this peer has heard nothing louder than silence for `seconds` while
        audio keeps arriving."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            now = time.monotonic()
            recent = [rms for when, rms in self.loudness if when >= now - seconds]
            frames_expected = seconds / 0.02 * 0.8
            if len(recent) >= frames_expected and max(recent) <= HEARD_RMS:
                return True
            await asyncio.sleep(0.1)
        return False

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        await self.socket.close()
        for task in self.readers:
            task.cancel()

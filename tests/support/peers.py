"""Media peers for tests: aiortc speakers and listeners that join a room through the room
socket, as a browser does, and measure what they hear."""

import asyncio
import contextlib
import fractions
import json
import math
import time
from collections import deque

import av
import numpy as np
import websockets
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription, rtcrtpsender
from aiortc.codecs.opus import OpusEncoder

RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
# Loudness (RMS of 16-bit samples) above which a listener counts as hearing someone.
HEARD_RMS = 500
# What a peer keeps of what it heard: loudness for a minute, samples for the last second.
LOUDNESS_FRAMES = 3000
RECENT_FRAMES = 50
# A tone counts as heard when its peak in the last second's spectrum stands this many times
# above the spectrum's median (40 dB): silence, noise and other tones stay far below it.
TONE_OVER_MEDIAN = 100
# The room page pings this often; the server closes a socket silent for 45 s.
PING_SECONDS = 15
# The room page's Opus bitrate; aiortc's encoder would send 96 kbit/s.
OPUS_BITRATE = 32000


class _Opus32k(OpusEncoder):
    def __init__(self):
        super().__init__()
        self.codec.bit_rate = OPUS_BITRATE
        # Unconstrained, a steady tone overshoots: 53 kbit/s for a 32 kbit/s target.
        self.codec.options = {**self.codec.options, "vbr": "constrained"}


def _encoder(codec, _library=rtcrtpsender.get_encoder):
    return _Opus32k() if codec.mimeType.lower() == "audio/opus" else _library(codec)


# aiortc has no setting for the Opus bitrate: its senders get ours.
rtcrtpsender.get_encoder = _encoder


class ToneTrack(MediaStreamTrack):
    """A microphone that hums a steady tone, paced in real time; silent while `quiet`."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0):
        super().__init__()
        self.frequency = frequency
        self.quiet = False
        self.samples = 0
        self.started = None

    async def recv(self):
        if self.started is None:
            self.started = time.monotonic()
        wait = self.started + self.samples / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(FRAME_SAMPLES) + self.samples) / RATE
        amplitude = 0 if self.quiet else 8000
        tone = (amplitude * np.sin(2 * math.pi * self.frequency * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, RATE)
        self.samples += FRAME_SAMPLES
        return frame


class RoomClient:
    """One person's room socket, and the peer connection they hear or speak through."""

    # Sees every frame as it arrives; the tests check it against its declaration.
    received = staticmethod(lambda raw: None)

    def __init__(self, server_port: int, room_id, session_key: str, name: str):
        self.url = f"ws://127.0.0.1:{server_port}/ws/rooms/{room_id}/"
        self.origin = f"http://127.0.0.1:{server_port}"
        self.session_key = session_key
        self.name = name
        self.frames: asyncio.Queue = asyncio.Queue()
        self.pc: RTCPeerConnection | None = None
        self.track: ToneTrack | None = None
        self.loudness: deque[tuple[float, float]] = deque(maxlen=LOUDNESS_FRAMES)
        self.recent: deque[np.ndarray] = deque(maxlen=RECENT_FRAMES)
        self.first_heard: float | None = None
        self.heard_first = asyncio.Event()
        # RTP packets and Opus payload bytes received (aiortc's stats have no bytesReceived).
        self.packets = 0
        self.payload_bytes = 0
        # Off: packets are received and counted but not decoded (a crowd of listeners cannot
        # afford aiortc's decoding, about 1 % of a core each, all the time).
        self.decoding = True
        # Every `speaking` frame: (when, user ids).
        self.speaking: list[tuple[float, list[int]]] = []
        self.readers: list[asyncio.Task] = []

    async def open(self) -> dict:
        self.socket = await websockets.connect(
            self.url,
            origin=self.origin,
            additional_headers={"Cookie": f"sessionid={self.session_key}"},
            ping_interval=None,
            max_size=2**20,
        )
        loop = asyncio.get_running_loop()
        self.readers += [loop.create_task(self._read()), loop.create_task(self._ping())]
        return await self.next_of("room.snapshot")

    async def _ping(self):
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(PING_SECONDS)
                await self.send("ping")

    async def _read(self):
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.socket:
                self.received(raw)
                frame = json.loads(raw)
                if frame["type"] == "speaking":
                    self.speaking.append((time.monotonic(), frame["user_ids"]))
                await self.frames.put(frame)

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
        for receiver in self.pc.getReceivers():
            self._count(receiver)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.send("media.answer", session=session, sdp=self.pc.localDescription.sdp)
        await self.send("media.candidate", session=session, candidate=None)

    async def publish(self, session: str = "publish-1", frequency: float = 440.0) -> None:
        self.pc = RTCPeerConnection()
        self.track = ToneTrack(frequency)
        self.pc.addTrack(self.track)
        self.pc.on("track", self._hear)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send("media.publish", session=session, sdp=self.pc.localDescription.sdp)
        answer = await self.next_of("media.answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def sent(self) -> tuple[int, int]:
        """(RTP packets, Opus payload bytes) this peer has sent."""
        packets = payload = 0
        for report in (await self.pc.getStats()).values():
            if report.type == "outbound-rtp":
                packets += report.packetsSent
                payload += report.bytesSent
        return packets, payload

    def _count(self, receiver) -> None:
        handle = receiver._handle_rtp_packet

        async def counted(packet, arrival_time_ms):
            self.packets += 1
            self.payload_bytes += len(packet.payload)
            if self.decoding:
                await handle(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = counted

    def _hear(self, track) -> None:
        self.readers.append(asyncio.get_running_loop().create_task(self._measure(track)))

    async def _measure(self, track) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                samples = frame.to_ndarray()
                now = time.monotonic()
                rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
                self.loudness.append((now, rms))
                if self.first_heard is None and rms > HEARD_RMS:
                    self.first_heard = now
                    self.heard_first.set()
                # Interleaved channels: the first one is enough for a spectrum.
                self.recent.append(samples.reshape(-1)[:: len(frame.layout.channels)])

    def tones_heard(self, frequencies) -> list[bool]:
        """Which of these tones the last second of audio holds."""
        if not self.recent:
            return [False for _ in frequencies]
        samples = np.concatenate(self.recent).astype(np.float64)
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
        floor = np.median(spectrum) or 1.0
        hertz_per_bin = RATE / len(samples)
        heard = []
        for frequency in frequencies:
            centre = round(frequency / hertz_per_bin)
            peak = spectrum[max(centre - 3, 0) : centre + 4].max()
            heard.append(bool(peak > TONE_OVER_MEDIAN * floor))
        return heard

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

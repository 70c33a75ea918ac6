"""Chromium as the browser tests and benchmarks run it (the Debian package; CHROMIUM_PATH
overrides), with fake devices, and what its fake microphone plays."""

import math
import os
import shutil
import struct
import wave

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # The only network interface may be loopback: without this, no ICE candidates.
    "--allow-loopback-in-peer-connection",
]
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
SENTENCE = (
    "Welcome to the room. Tonight we talk about open source audio, how rooms move to the "
    "media server, and what listeners hear when the network changes."
)


def write_voice(path) -> None:
    """Two seconds of a voice-like sound: a gliding pitch with harmonics, in syllables, so
    noise suppression does not take it for steady noise."""
    rate = 48000
    frames = bytearray()
    for n in range(rate * 2):
        t = n / rate
        pitch = 140 + 60 * math.sin(2 * math.pi * 0.7 * t)
        phase = 2 * math.pi * pitch * t
        tone = sum(math.sin(k * phase) / k for k in range(1, 6))
        syllables = 0.55 + 0.45 * math.sin(2 * math.pi * 3.5 * t)
        frames += struct.pack("<h", int(9000 * syllables * tone))
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(bytes(frames))

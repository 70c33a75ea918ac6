"""Replay processing (replays/processing.py) on real WAV parts named as Janus names them, with the
real ffmpeg; what comes out is checked with ffprobe."""

import json
import logging
import math
import os
import shutil
import stat
import subprocess
import threading
import wave
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replays.processing import (
    FFMPEG_FAILED,
    MISSING,
    NO_FFMPEG,
    NO_SPACE,
    Part,
    ProcessingError,
    recording_parts,
    replay_encode,
    timeline_offset,
)

RATE = 48000
START = 1733600000123456  # µs since the epoch: 2024-12-07 19:33:20.123456 UTC
T0 = datetime(2024, 12, 7, 19, 33, 20, 123456, tzinfo=UTC)

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="replays are encoded with ffmpeg and checked with ffprobe (apt-get install ffmpeg)",
)


def tone(seconds: float, level: float = 0.8, hz: float = 440.0) -> array:
    peak = level * 32767
    return array(
        "h",
        (round(peak * math.sin(2 * math.pi * hz * i / RATE)) for i in range(round(seconds * RATE))),
    )


def silence(seconds: float) -> array:
    return array("h", bytes(2 * round(seconds * RATE)))


def write_part(folder: Path, start_us: int, samples: array, room: str = "1234") -> Path:
    """A closed part as Janus leaves it: 16-bit mono 48 kHz PCM behind a 44-byte header."""
    path = folder / f"janus-audioroom-{room}-{start_us}.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())
    assert path.stat().st_size == 44 + 2 * len(samples)
    return path


def frames(path: Path) -> int:
    with wave.open(str(path)) as reader:
        return reader.getnframes()


def probe(path: Path) -> tuple[str, int, float]:
    streams, format_ = "stream=codec_name,channels", "format=duration"
    command = ["ffprobe", "-v", "error", "-show_entries", streams, "-show_entries", format_]
    shown = subprocess.run([*command, "-of", "json", str(path)], capture_output=True, check=True)
    info = json.loads(shown.stdout)
    (stream,) = info["streams"]
    return stream["codec_name"], stream["channels"], float(info["format"]["duration"])


def fake_ffmpeg(folder: Path, script: str) -> str:
    path = folder / "ffmpeg"
    path.write_text(f"#!/bin/sh\nfor output; do :; done\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_parts_are_found_and_ordered_by_their_start(tmp_path):
    offsets = [5_000_001, 0, 3_600_000_000, 2_500_000]  # seconds apart, written out of order
    paths = [write_part(tmp_path, START + us, silence(0.1), room="my-room-7") for us in offsets]
    first = paths[1]
    write_part(tmp_path, START - 1, array("h"))  # a header and no samples
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "janus-audioroom-7-soon.wav").write_bytes(first.read_bytes())
    (tmp_path / f"janus-audioroom-7-{START}.wav.bak").write_bytes(first.read_bytes())
    (tmp_path / f"other-7-{START}.wav").write_bytes(first.read_bytes())
    (tmp_path / f"janus-audioroom-7-{START - 2}.wav").mkdir()

    parts = recording_parts(tmp_path)

    assert parts == [
        Part(path=paths[1], started_at=T0, closed=True),
        Part(path=paths[3], started_at=T0 + timedelta(seconds=2.5), closed=True),
        Part(path=paths[0], started_at=T0 + timedelta(seconds=5, microseconds=1), closed=True),
        Part(path=paths[2], started_at=T0 + timedelta(hours=1), closed=True),
    ]
    assert parts[0].started_at.tzinfo is UTC
    assert recording_parts(tmp_path / "absent") == []


def test_an_open_part_has_its_header_repaired_and_is_used(tmp_path):
    closed = write_part(tmp_path, START, tone(1.5))
    # What a crash leaves: the temporary name, sizes never written, half a sample at the end.
    crashed = tmp_path / f"janus-audioroom-1234-{START}.wav.tmp"
    data = bytearray(closed.read_bytes())
    data[4:8] = data[40:44] = bytes(4)
    crashed.write_bytes(bytes(data) + b"\x01")
    closed.unlink()
    with pytest.raises(wave.Error):
        frames(crashed)  # a zero RIFF size: not even the WAVE id is read

    (part,) = recording_parts(tmp_path)

    assert part == Part(path=crashed, started_at=T0, closed=False)
    assert frames(crashed) == 1.5 * RATE
    assert crashed.stat().st_size == 44 + 2 * 1.5 * RATE
    header = crashed.read_bytes()[:44]
    assert int.from_bytes(header[4:8], "little") == crashed.stat().st_size - 8
    assert int.from_bytes(header[40:44], "little") == crashed.stat().st_size - 44
    if shutil.which("ffmpeg"):
        assert replay_encode([part], tmp_path / "out").duration == pytest.approx(1.5, abs=0.05)


@needs_ffmpeg
def test_parts_are_joined_and_encoded_for_every_browser(tmp_path):
    write_part(tmp_path, START, tone(2.0))
    write_part(tmp_path, START + 10_000_000, tone(1.5, hz=300))  # Janus restarted after 8 s

    encoded = replay_encode(recording_parts(tmp_path), tmp_path / "out")

    assert encoded.duration == pytest.approx(3.5, abs=0.05)
    assert encoded.part_offsets == pytest.approx([0.0, 2.0])
    assert (encoded.ogg.parent, encoded.ogg.suffix) == (tmp_path / "out", ".ogg")
    assert (encoded.m4a.parent, encoded.m4a.suffix) == (tmp_path / "out", ".m4a")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        [encoded.ogg.name, encoded.m4a.name]
    )
    for path, codec in ((encoded.ogg, "opus"), (encoded.m4a, "aac")):
        name, channels, duration = probe(path)
        assert (name, channels) == (codec, 1)
        assert duration == pytest.approx(3.5, abs=0.05)
    # +faststart: the index comes before the samples, so Safari can start playing at once.
    head = encoded.m4a.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")


@needs_ffmpeg
def test_the_start_is_trimmed(tmp_path):
    write_part(tmp_path, START, silence(1.0) + tone(2.0))

    encoded = replay_encode(recording_parts(tmp_path), tmp_path / "out", trim_start=1.25)

    assert encoded.duration == pytest.approx(1.75, abs=0.05)
    assert encoded.part_offsets == [0.0]
    assert probe(encoded.ogg)[2] == pytest.approx(1.75, abs=0.05)
    assert probe(encoded.m4a)[2] == pytest.approx(1.75, abs=0.05)
    # It is the silent start that went: what is left is all tone.
    assert len(encoded.peaks) == 18
    assert min(encoded.peaks) > 0.75


@needs_ffmpeg
def test_peaks_follow_the_loudness(tmp_path):
    write_part(tmp_path, START, silence(2.0))
    write_part(tmp_path, START + 2_000_000, tone(2.0, level=0.8))

    peaks = replay_encode(recording_parts(tmp_path), tmp_path / "out").peaks

    assert len(peaks) == 40
    assert all(peak == 0 for peak in peaks[:20])
    assert all(0.75 < peak <= 0.8 for peak in peaks[20:])
    assert all(round(peak, 3) == peak for peak in peaks)


@needs_ffmpeg
@pytest.mark.parametrize(("seconds", "count"), [(0.04, 1), (3.26, 33), (55.0, 500)])
def test_there_are_ten_peaks_a_second_up_to_500(tmp_path, seconds, count):
    write_part(tmp_path, START, silence(seconds))

    peaks = replay_encode(recording_parts(tmp_path), tmp_path / "out").peaks

    assert len(peaks) == count


def test_a_moment_is_placed_in_the_joined_timeline(tmp_path):
    write_part(tmp_path, START, silence(2.0))
    write_part(tmp_path, START + 10_000_000, silence(1.5))
    parts = recording_parts(tmp_path)
    offsets = [0.0, 2.0]

    def at(seconds: float) -> float | None:
        return timeline_offset(parts, offsets, T0 + timedelta(seconds=seconds))

    assert at(0.0) == 0.0
    assert at(0.5) == pytest.approx(0.5)
    assert at(10.25) == pytest.approx(2.25)
    assert at(5.0) is None  # between the parts: nothing was recorded
    assert at(2.0) is None
    assert at(-0.1) is None
    assert at(11.6) is None  # after the last part ended


def test_no_parts_is_a_missing_recording(tmp_path):
    with pytest.raises(ProcessingError) as raised:
        replay_encode(recording_parts(tmp_path), tmp_path / "out")

    assert raised.value.reason == MISSING == "The recording is missing."


def test_a_corrupt_part_fails_and_leaves_nothing(tmp_path):
    write_part(tmp_path, START, tone(1.0))
    (tmp_path / f"janus-audioroom-1234-{START + 2_000_000}.wav").write_bytes(os.urandom(4000))
    out = tmp_path / "out"

    with pytest.raises(ProcessingError) as raised:
        replay_encode(recording_parts(tmp_path), out)

    assert raised.value.reason
    assert not out.exists() or list(out.iterdir()) == []


def test_a_missing_ffmpeg_is_said_plainly(tmp_path):
    write_part(tmp_path, START, tone(0.5))
    out = tmp_path / "out"

    with pytest.raises(ProcessingError) as raised:
        replay_encode(recording_parts(tmp_path), out, ffmpeg="/nonexistent/ffmpeg")

    assert raised.value.reason == NO_FFMPEG
    assert "ffmpeg is not installed" in raised.value.reason
    assert list(out.iterdir()) == []


def test_a_failing_encoder_stops_the_other_and_leaves_nothing(tmp_path, caplog):
    write_part(tmp_path, START, tone(0.5))
    out = tmp_path / "out"
    pid_file, gate = tmp_path / "opus.pid", tmp_path / "gate"
    # The Opus encoder blocks until someone opens the gate: only a kill ends it.
    os.mkfifo(gate)
    ffmpeg = fake_ffmpeg(
        tmp_path,
        f"""echo half > "$output"
case "$output" in
  *.ogg) echo $$ > {pid_file}; exec cat {gate} > /dev/null;;
  *) sleep 0.3; echo "first line" >&2; echo "aac: the last line" >&2; exit 1;;
esac""",
    )
    raised: list[ProcessingError] = []

    def encode():
        try:
            replay_encode(recording_parts(tmp_path), out, ffmpeg=ffmpeg)
        except ProcessingError as error:
            raised.append(error)

    with caplog.at_level(logging.ERROR, logger="replays.processing"):
        encoding = threading.Thread(target=encode)
        encoding.start()
        encoding.join(timeout=60)
    if encoding.is_alive():  # it waits for the blocked encoder: release it, then fail
        with gate.open("w"):
            pass
        encoding.join()
        pytest.fail("A failed encoder left the other one running.")
    assert [error.reason for error in raised] == [FFMPEG_FAILED]
    assert "aac: the last line" in caplog.text
    assert "first line" not in caplog.text
    assert list(out.iterdir()) == []
    # The Opus encoder was killed and reaped: its process id is free again.
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_full_disk_is_said_plainly(tmp_path):
    write_part(tmp_path, START, tone(0.5))
    out = tmp_path / "out"
    ffmpeg = fake_ffmpeg(
        tmp_path,
        'echo half > "$output"; echo "$output: No space left on device" >&2; exit 1',
    )

    with pytest.raises(ProcessingError) as raised:
        replay_encode(recording_parts(tmp_path), out, ffmpeg=ffmpeg)

    assert raised.value.reason == NO_SPACE
    assert list(out.iterdir()) == []

"""Turns the WAV parts Janus's AudioBridge wrote for a recorded room into the files people play.

A room's recording is one or more parts (Janus restarted, or recording was turned off and on),
each named `janus-audioroom-<room>-<start µs>.wav`; the replay is the parts joined by start time.
A part still called `.wav.tmp` was never closed (Janus crashed), so its header's sizes are stale:
they are repaired from the file's length before anything reads it. The two encodings (Opus for
most browsers, AAC for Safari) run as two ffmpeg processes at once, one per core, while this
process reads the PCM for the player's waveform.
"""

import errno
import logging
import re
import struct
import subprocess
import sys
import tempfile
import time
import wave
from array import array
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

MISSING = "The recording is missing."
UNREADABLE = "The recording is damaged and could not be read."
NOTHING_LEFT = "Nothing is left of the recording once its start is cut."
NO_SPACE = "The server ran out of disk space while preparing the replay."
FFMPEG_FAILED = "The audio could not be converted (ffmpeg failed)."
NO_FFMPEG = "The audio could not be converted: ffmpeg is not installed on the server."

PART_NAME = re.compile(r"janus-audioroom-.+-(?P<start>\d+)\.wav(?P<tmp>\.tmp)?")
HEADER = 44  # Janus writes the canonical header: the samples start right after it.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Peaks look at the samples on a 4 kHz grid: reading every sample of an hour takes pure Python
# ~8 s; the grid takes under one and finds speech's peaks to within a few percent.
PEAK_RATE = 4000
MAX_PEAKS = 500
CHUNK_FRAMES = 1 << 20


@dataclass(frozen=True)
class Part:
    path: Path
    started_at: datetime
    closed: bool


@dataclass(frozen=True)
class Encoded:
    duration: float
    peaks: list[float]
    ogg: Path
    m4a: Path
    part_offsets: list[float]


class ProcessingError(Exception):
    """`reason` is a plain sentence for the host; the details go to the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@contextmanager
def _disk_space_said() -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise ProcessingError(NO_SPACE) from error
        raise


def recording_parts(folder: Path) -> list[Part]:
    """The parts in `folder` by start time, open ones repaired; parts without samples left out."""
    parts: list[Part] = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = PART_NAME.fullmatch(path.name)
        if not match or not path.is_file():
            continue
        if match["tmp"]:
            with _disk_space_said():  # a copy-on-write file system needs room even here
                _repair(path)
        if path.stat().st_size > HEADER:
            started_at = EPOCH + timedelta(microseconds=int(match["start"]))
            parts.append(Part(path, started_at, closed=not match["tmp"]))
    return sorted(parts, key=lambda part: part.started_at)


def _repair(path: Path) -> None:
    with path.open("r+b") as file:
        header = file.read(HEADER)
        if len(header) < HEADER or header[:4] != b"RIFF" or header[36:40] != b"data":
            return
        size = file.seek(0, 2)
        if (size - HEADER) % 2:
            size -= 1  # the half of a sample Janus was writing when it stopped
            file.truncate(size)
        file.seek(4)
        file.write(struct.pack("<I", size - 8))
        file.seek(40)
        file.write(struct.pack("<I", size - HEADER))


def replay_encode(
    parts: list[Part], out_dir: Path, *, trim_start: float = 0.0, ffmpeg: str = "ffmpeg"
) -> Encoded:
    """Joins the parts, cuts `trim_start` seconds from the start, and encodes into `out_dir`."""
    if not parts:
        raise ProcessingError(MISSING)
    ogg, m4a, listing = out_dir / "replay.ogg", out_dir / "replay.m4a", out_dir / "parts.txt"
    rate, lengths = _lengths(parts)
    skip = round(max(trim_start, 0.0) * rate)
    if skip >= sum(lengths):
        raise ProcessingError(NOTHING_LEFT)
    try:
        with _disk_space_said():
            out_dir.mkdir(parents=True, exist_ok=True)
            # -safe 0 lets the list name absolute paths; the quoting is the concat demuxer's.
            quoted = (str(part.path.resolve()).replace("'", "'\\''") for part in parts)
            listing.write_text("".join(f"file '{path}'\n" for path in quoted))
            read = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat"]
            read += ["-safe", "0", "-i", str(listing), "-ss", f"{skip / rate:.6f}", "-ac", "1"]
            opus = [*read, "-c:a", "libopus", "-b:a", "32k", "-application", "voip", str(ogg)]
            aac = [*read, "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(m4a)]
            peaks = _run([opus, aac], lambda: _peaks(parts, rate, skip, sum(lengths) - skip))
    except BaseException:
        ogg.unlink(missing_ok=True)
        m4a.unlink(missing_ok=True)
        raise
    finally:
        listing.unlink(missing_ok=True)
    offsets = [frames / rate for frames in accumulate(lengths[:-1], initial=0)]
    return Encoded((sum(lengths) - skip) / rate, peaks, ogg, m4a, offsets)


def replay_cut(
    ogg: Path, m4a: Path, out_dir: Path, *, start: float, ffmpeg: str = "ffmpeg"
) -> tuple[Path, Path]:
    """Cuts `start` seconds from the start of a replay's files without encoding them again
    (a packet's precision, 20 ms for Opus, 21 ms for AAC); returns the new files."""
    cut_ogg, cut_m4a = out_dir / "cut.ogg", out_dir / "cut.m4a"
    try:
        with _disk_space_said():
            quiet = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
            commands = [
                [
                    *quiet,
                    "-ss",
                    f"{start:.3f}",
                    "-i",
                    str(source),
                    "-c",
                    "copy",
                    *extra,
                    str(target),
                ]
                for source, target, extra in (
                    (ogg, cut_ogg, []),
                    (m4a, cut_m4a, ["-movflags", "+faststart"]),
                )
            ]
            _run(commands, list)
    except BaseException:
        cut_ogg.unlink(missing_ok=True)
        cut_m4a.unlink(missing_ok=True)
        raise
    return cut_ogg, cut_m4a


def _lengths(parts: list[Part]) -> tuple[int, list[int]]:
    """The parts' sample rate and frame counts, from their headers."""
    lengths, rates = [], set()
    for part in parts:
        try:
            with wave.open(str(part.path)) as reader:
                shape = (reader.getnchannels(), reader.getsampwidth())
                lengths.append(reader.getnframes())
                rates.add(reader.getframerate())
        except FileNotFoundError as error:
            raise ProcessingError(MISSING) from error
        except (wave.Error, EOFError) as error:
            logger.error("Recording part %s is not a WAV file: %s", part.path, error)
            raise ProcessingError(UNREADABLE) from error
        if shape != (1, 2):
            logger.error("Recording part %s is not 16-bit mono: %s", part.path, shape)
            raise ProcessingError(UNREADABLE)
    if len(rates) != 1:  # the concat demuxer cannot join parts of different rates
        logger.error("Recording parts of different sample rates: %s", rates)
        raise ProcessingError(UNREADABLE)
    return rates.pop(), lengths


def _run(commands: list[list[str]], meanwhile: Callable[[], list[float]]) -> list[float]:
    """Runs the encoders at once and `meanwhile` while they work; no process outlives it."""
    processes: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    with ExitStack() as stack:
        stack.callback(_stop, processes)
        for command in commands:
            # A file, not a pipe: nobody reads stderr until the end, and a full pipe would block.
            stderr: IO[bytes] = stack.enter_context(tempfile.TemporaryFile())
            try:
                nothing = subprocess.DEVNULL
                process = subprocess.Popen(command, stdin=nothing, stdout=nothing, stderr=stderr)  # noqa: S603
            except FileNotFoundError as error:
                raise ProcessingError(NO_FFMPEG) from error
            processes.append((process, stderr))
        result = meanwhile()
        while not all(process.poll() == 0 for process, _ in processes):
            for process, stderr in processes:
                if process.poll() not in (None, 0):
                    _fail(process, stderr)  # and _stop ends the other one at once
            time.sleep(0.05)
        return result


def _stop(processes: list[tuple[subprocess.Popen[bytes], IO[bytes]]]) -> None:
    for process, _ in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def _fail(process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
    stderr.seek(0)
    lines = stderr.read().decode(errors="replace").strip().splitlines()
    logger.error("ffmpeg failed (%s): %s", process.args, lines[-1] if lines else process.returncode)
    if any("No space left on device" in line for line in lines):
        raise ProcessingError(NO_SPACE)
    raise ProcessingError(FFMPEG_FAILED)


def _peaks(parts: list[Part], rate: int, skip: int, frames: int) -> list[float]:
    step = max(1, rate // PEAK_RATE)
    picked = array("h")
    position = 0  # in frames of the joined audio, so that the grid runs on across the parts
    for part in parts:
        with wave.open(str(part.path)) as reader:
            while chunk := reader.readframes(CHUNK_FRAMES):
                samples = memoryview(chunk)[: len(chunk) // 2 * 2].cast("h")
                picked.frombytes(samples[-position % step :: step].tobytes())
                position += len(samples)
    if sys.byteorder == "big":
        picked.byteswap()  # WAV is little-endian
    del picked[: -(-skip // step)]
    count = min(MAX_PEAKS, max(1, round(frames / rate * 10)))
    peaks = []
    for bucket in range(count):
        window = picked[bucket * len(picked) // count : (bucket + 1) * len(picked) // count]
        peak = max(max(window), -min(window)) if window else 0  # noqa: PLW3301
        peaks.append(round(peak / 32768, 3))
    return peaks


def timeline_offset(parts: list[Part], offsets: list[float], at: datetime) -> float | None:
    """Where the wall-clock moment `at` falls in the joined timeline (before any trim), or None
    when no part was recording then. The last part's length is read from its file."""
    if len(parts) != len(offsets):
        raise ValueError("one offset per part")
    for index, (part, offset) in enumerate(zip(parts, offsets, strict=True)):
        if index + 1 < len(parts):
            length = offsets[index + 1] - offset
        else:
            rate, (frames,) = _lengths([part])
            length = frames / rate
        if 0 <= (into := (at - part.started_at).total_seconds()) < length:
            return offset + into
    return None

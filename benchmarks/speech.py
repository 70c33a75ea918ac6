"""Speech benchmark: what a replay's transcript costs and how right it is (not a test).

espeak-ng reads a text of several speakers' sentences (each its own voice); the reading is
encoded as a replay is (Opus 32 kbit/s in Ogg, by replays.processing's encoder settings) and
looped to --minutes. `replays.speech.transcribe` then runs on it in this process, as the
replays worker runs it, with the configured model (TRANSCRIBE_MODEL; Whisper tiny.en by
default) and TRANSCRIBE_THREADS. It prints the model's load time, the CPU seconds per second of
audio (this process's, every thread), the wall time per second of audio, the peak memory of
the process, and the word error rate of one reading (the first loop, scored against the text
espeak-ng read), then last:
`speech: minutes=N cpu_per_audio_second=X wall_per_audio_second=Y wer=Z peak_mb=M`.

    DEBUG=1 .venv/bin/python benchmarks/speech.py --minutes 10

(`make bench-speech` runs it; `BENCH_ARGS="--minutes 1"` is a quick run.) It needs the
`speech` extra (`make setup` installs it), espeak-ng and ffmpeg.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings

from replays import speech
from tests.support.speech import word_error_rate

# Who says what, in turn: a room's conversation, about a minute read once.
TURNS = [
    ("en-us", "Welcome back, everyone, and thank you for joining the room tonight."),
    ("en-gb", "Thanks for having me. I have been looking forward to this all week."),
    ("en-us", "We are talking about running a small server at home for a few friends."),
    ("en-gb", "The first question is always the same: how much does it cost to run?"),
    ("en-us", "Less than you would think. One small machine, two cores, and a good connection."),
    ("en-gb", "And what about the recording? Who decides what goes into the replay?"),
    (
        "en-us",
        "Every word said on stage goes into one mix, and nobody is recorded without consent.",
    ),
    ("en-gb", "So let us hear from the audience. Raise your hand if you want to speak."),
]


def tool(name: str) -> str:
    """A program's full path (main() checked that each is installed)."""
    return shutil.which(name) or name


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ffmpeg(*args: str) -> None:
    subprocess.run([settings.FFMPEG, "-loglevel", "error", "-y", *args], check=True)


def reading(folder: Path) -> Path:
    """The turns read by espeak-ng, joined with half a second between them, as 48 kHz WAV."""
    parts = []
    for index, (voice, text) in enumerate(TURNS):
        path = folder / f"turn{index}.wav"
        subprocess.run(
            [tool("espeak-ng"), "-v", voice, "-s", "150", "-w", str(path), text], check=True
        )
        parts.append(path)
    listing = folder / "turns.txt"
    listing.write_text("".join(f"file '{path}'\n" for path in parts))
    joined = folder / "reading.wav"
    ffmpeg(
        "-f", "concat", "-safe", "0", "-i", str(listing), "-ar", "48000", "-ac", "1", str(joined)
    )
    return joined


def as_replay(wav: Path, loops: int) -> Path:
    """`wav` looped `loops` times, as a replay's Opus in Ogg."""
    ogg = wav.with_name(f"replay-{loops}.ogg")
    ffmpeg(
        "-stream_loop", str(loops - 1), "-i", str(wav),
        "-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-application", "voip", str(ogg),
    )  # fmt: skip
    return ogg


def duration(path: Path) -> float:
    out = subprocess.run(
        [
            tool("ffprobe"),
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as scratch:
        folder = Path(scratch)
        wav = reading(folder)
        once = duration(wav)
        loops = max(1, round(args.minutes * 60 / once))
        replay = as_replay(wav, loops)
        single = as_replay(wav, 1)
        length = duration(replay)
        say(f"{once:.1f} s of speech, looped {loops} times: {length / 60:.1f} minutes")

        started, used = time.perf_counter(), cpu()
        speech.transcribe(single)  # loads the model, once per process
        load_wall = time.perf_counter() - started
        reference = " ".join(text for _, text in TURNS)
        heard = " ".join(one.text for one in speech.transcribe(single))
        wer = word_error_rate(reference, heard)
        say(f"model {speech.model_location()}: loaded and first reading in {load_wall:.1f} s")

        started, used = time.perf_counter(), cpu()
        said = speech.transcribe(replay)
        wall, spent = time.perf_counter() - started, cpu() - used
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"audio: {length:.0f} s ({loops} readings of {once:.1f} s), {len(said)} segments")
    print(f"threads: TRANSCRIBE_THREADS={settings.TRANSCRIBE_THREADS}, cores {os.cpu_count()}")
    print(f"CPU per second of audio: {spent / length:.3f} s (all threads)")
    print(f"wall per second of audio: {wall / length:.3f} s")
    print(f"word error rate, one reading: {wer:.1%}")
    print(f"peak memory of the process: {peak_mb:.0f} MB")
    print(
        f"speech: minutes={length / 60:.1f} cpu_per_audio_second={spent / length:.3f} "
        f"wall_per_audio_second={wall / length:.3f} wer={wer:.3f} peak_mb={peak_mb:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="minutes of audio to transcribe")
    args = parser.parse_args()
    for tool in ("espeak-ng", settings.FFMPEG, "ffprobe"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install espeak-ng ffmpeg).")
    if not speech.speech_available():
        sys.exit("The speech extra is not installed (make setup installs it).")
    run(args)


if __name__ == "__main__":
    main()

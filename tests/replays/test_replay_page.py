"""The replay's page (replays.views.replay_page) and its audio (replays.views.replay_audio),
through the Django test client, on real audio: a WAV part as Janus names it, encoded by
replays.processing as the worker encodes it."""

import math
import re
import shutil
import wave
from array import array
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files import File
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from replays.models import Replay, Transcript, TranscriptSegment
from replays.processing import Encoded, recording_parts, replay_encode
from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        shutil.which("ffmpeg") is None, reason="needs ffmpeg (apt-get install ffmpeg)"
    ),
]

RATE = 48000
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)


def write_recording(folder: Path, seconds: float) -> Path:
    """A closed part as Janus writes it (48 kHz mono 16-bit, its name), of a tone whose
    loudness swells and fades, so that the waveform has a shape."""
    folder.mkdir(parents=True, exist_ok=True)
    started_us = int(timezone.now().timestamp() * 1_000_000)
    path = folder / f"janus-audioroom-1-{started_us}.wav"
    samples = array(
        "h",
        (
            round(
                26000
                * (0.15 + 0.85 * abs(math.sin(math.pi * n / RATE / 1.5)))
                * math.sin(2 * math.pi * 220 * n / RATE)
            )
            for n in range(round(seconds * RATE))
        ),
    )
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())
    return path


def encode_recording(folder: Path, seconds: float) -> Encoded:
    write_recording(folder / "parts", seconds)
    return replay_encode(recording_parts(folder / "parts"), folder / "out")


def ready_replay(room: Room, encoded: Encoded, chapters=()) -> Replay:
    """`room`'s replay, ready, with the encoded files stored as processing stores them."""
    now = timezone.now()
    replay = Replay(
        room=room,
        status=Replay.Status.READY,
        duration=encoded.duration,
        peaks=encoded.peaks,
        chapters=list(chapters),
        ready_at=now,
        expires_at=now + timedelta(days=30),
    )
    with encoded.ogg.open("rb") as ogg, encoded.m4a.open("rb") as m4a:
        replay.audio_ogg.save("audio.ogg", File(ogg), save=False)
        replay.audio_m4a.save("audio.m4a", File(m4a), save=False)
    replay.save()
    return replay


def ended_room(host, title="Night radio", **fields) -> Room:
    room = room_create(host=host, title=title, **fields)
    Room.objects.filter(pk=room.pk).update(status=Room.Status.ENDED, ended_at=timezone.now())
    room.refresh_from_db()
    return room


def meta(page: str) -> dict[str, str]:
    return dict(
        re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z_:]+)" content="([^"]*)">', page)
    )


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """Six seconds of audio, encoded once for the module's replays."""
    return encode_recording(tmp_path_factory.mktemp("recording"), 6.0)


@pytest.fixture(autouse=True)
def _replay_files(places):
    """The replays' files in a folder of the test's own."""
    return places


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://audio.example.com/"
    return "https://audio.example.com"


@pytest.fixture
def host(db):
    return UserFactory(username="hana", display_name="Hana Host")


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", display_name="Ann Speaker")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", display_name="Bob Speaker")


@pytest.fixture
def public_replay(host, ann, bob, encoded):
    room = ended_room(host, title="Open mic", description="Anyone can talk.")
    chapters = [
        {"start": 0.0, "end": 2.5, "user_id": ann.pk},
        {"start": 3.0, "end": 6.0, "user_id": bob.pk},
    ]
    return ready_replay(room, encoded, chapters)


@pytest.fixture
def closed_replay(host, ann, encoded):
    room = ended_room(host, title="Board meeting", visibility=Room.Visibility.CLOSED)
    return ready_replay(room, encoded, [{"start": 0.0, "end": 6.0, "user_id": ann.pk}])


def page_of(replay: Replay) -> str:
    return f"/rooms/{replay.room_id}/replay/"


# --- The page --------------------------------------------------------------------------


def test_a_ready_replay_plays_with_its_chapters(client, host, public_replay):
    client.force_login(host)
    response = client.get(page_of(public_replay))
    assert response.status_code == 200
    assert "replays/replay.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert "<h1>Open mic</h1>" in page
    assert "Hosted by <strong>Hana Host</strong>" in page
    assert "0:06" in page  # the length
    # Two sources, Opus in Ogg first; Safari takes the AAC.
    sources = re.findall(r'<source src="([^"]+)" type="([^"]+)">', page)
    room = public_replay.room_id
    assert sources == [
        (f"/rooms/{room}/replay/audio.ogg", "audio/ogg; codecs=opus"),
        (f"/rooms/{room}/replay/audio.m4a", "audio/mp4"),
    ]
    assert re.search(r"<audio [^>]*\bcontrols\b", page)  # the browser's own, without script
    chapters = page[page.index("data-chapters") :]
    assert chapters.index("Ann Speaker") < chapters.index("Bob Speaker")
    assert 'href="?t=3" data-start="3.0"' in page
    assert re.search(r'data-peaks="\[[0-9., ]+\]"', page)
    assert "The replay is being prepared" not in page
    assert not INLINE_SCRIPT.search(page)
    assert not INLINE_STYLE.search(page)


def _transcript(replay, status, lines=()):
    transcript = Transcript.objects.create(replay=replay, status=status)
    for start, end, text, user in lines:
        TranscriptSegment.objects.create(
            transcript=transcript, start=start, end=end, text=text, user=user
        )


def test_a_transcribed_replay_shows_what_was_said_with_links_to_each_line(
    client, ann, public_replay, django_assert_max_num_queries
):
    _transcript(
        public_replay,
        Transcript.Status.READY,
        [(0.4, 2.9, "Hello <everyone>.", ann), (3.1, 5.0, "Someone who left spoke.", None)],
    )
    with django_assert_max_num_queries(12):
        page = client.get(page_of(public_replay)).content.decode()
    transcript = page[page.index("What was said") :]
    assert 'href="?t=0" data-start="0.4" data-end="2.9"' in transcript
    assert '<span class="replay-line__who">Ann Speaker</span>' in transcript
    assert "Hello &lt;everyone&gt;." in transcript  # escaped
    assert 'href="?t=3" data-start="3.1"' in transcript
    assert f'href="/rooms/{public_replay.room_id}/replay/transcript.vtt"' in transcript
    assert "data-captions" in page
    assert "data-caption " in page
    assert "<kbd>c</kbd> captions" in page


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (Transcript.Status.PROCESSING, "The transcript is being written."),
        (Transcript.Status.FAILED, "No transcript could be made of this replay."),
        (None, "This replay has no transcript."),
    ],
)
def test_without_a_ready_transcript_the_page_says_why(client, public_replay, status, says):
    if status is not None:
        _transcript(public_replay, status)
    page = client.get(page_of(public_replay)).content.decode()
    assert says in page
    assert "data-transcript" not in page
    assert "data-captions" not in page


def test_a_site_without_speech_says_it_writes_no_transcripts(client, public_replay, monkeypatch):
    monkeypatch.setattr("replays.views.speech_available", lambda: False)
    page = client.get(page_of(public_replay)).content.decode()
    assert "This site does not write transcripts." in page


def test_a_moment_in_the_address_starts_the_browsers_player_there(client, public_replay):
    page = client.get(page_of(public_replay) + "?t=4").content.decode()
    assert f'src="/rooms/{public_replay.room_id}/replay/audio.ogg#t=4"' in page
    for junk in ("x", "-3", "nan", "inf", "0"):
        page = client.get(page_of(public_replay), {"t": junk}).content.decode()
        assert "#t=" not in page, junk


def test_a_replay_being_made_says_so_and_has_no_player(client, host):
    room = ended_room(host)
    replay = Replay.objects.create(room=room, status=Replay.Status.PROCESSING)
    client.force_login(host)
    response = client.get(page_of(replay))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The replay is being prepared" in page
    assert 'data-status="processing"' in page
    assert f'data-api="/api/rooms/{room.pk}/replay/"' in page
    assert "<audio" not in page


def test_a_live_rooms_replay_says_it_comes_when_the_room_ends(client, host):
    room = room_create(host=host, title="Still on air")
    replay = Replay.objects.create(room=room, status=Replay.Status.RECORDING)
    client.force_login(host)
    page = client.get(page_of(replay)).content.decode()
    assert "This room is live and recording." in page
    assert 'data-status="recording"' in page
    assert f'href="/rooms/{room.pk}/">Go to the room</a>' in page
    assert "<audio" not in page


def test_a_failed_replay_tells_the_host_why_and_others_only_that_it_is_missing(client, host, ann):
    room = ended_room(host)
    replay = Replay.objects.create(
        room=room, status=Replay.Status.FAILED, failure="The recording is missing."
    )
    client.force_login(host)
    page = client.get(page_of(replay)).content.decode()
    assert "The replay could not be made." in page
    assert "The recording is missing." in page
    client.force_login(ann)
    page = client.get(page_of(replay)).content.decode()
    assert "This replay is not available." in page
    assert "The recording is missing." not in page
    assert "<audio" not in page


def test_a_closed_rooms_replay_is_not_found_for_an_outsider_or_a_visitor(client, closed_replay):
    response = client.get(page_of(closed_replay))
    assert response.status_code == 404
    assert "Board meeting" not in response.content.decode()
    client.force_login(UserFactory())
    response = client.get(page_of(closed_replay))
    assert response.status_code == 404
    assert "Board meeting" not in response.content.decode()


def test_a_closed_rooms_replay_plays_for_its_host_without_a_link_preview(
    client, host, closed_replay
):
    client.force_login(host)
    response = client.get(page_of(closed_replay))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Board meeting</h1>" in page
    assert meta(page) == {}


def test_a_room_without_a_replay_has_no_replay_page(client, host):
    room = ended_room(host)
    client.force_login(host)
    assert client.get(f"/rooms/{room.pk}/replay/").status_code == 404


def test_a_public_replay_plays_for_a_visitor_with_its_link_preview(client, public_replay, site):
    response = client.get(page_of(public_replay))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Open mic</h1>" in page
    tags = meta(page)
    assert tags["og:title"] == "Open mic"
    assert tags["og:type"] in {"website", "music.song"}
    assert tags["og:audio"] == f"{site}/rooms/{public_replay.room_id}/replay/audio.ogg"
    assert tags["og:audio:type"] == "audio/ogg"
    assert tags["og:url"] == f"{site}/rooms/{public_replay.room_id}/replay/"
    assert tags["og:description"] == "Replay · 0:06 · hosted by Hana Host. Anyone can talk."


def test_the_page_costs_the_same_queries_however_many_speak(
    client, host, encoded, django_assert_num_queries
):
    people = [UserFactory() for _ in range(4)]
    one = ready_replay(ended_room(host), encoded, [{"start": 0, "end": 1, "user_id": people[0].pk}])
    many = ready_replay(
        ended_room(host),
        encoded,
        [{"start": n, "end": n + 1, "user_id": person.pk} for n, person in enumerate(people * 2)],
    )
    client.force_login(host)
    client.get(page_of(one))  # the session, read once
    with CaptureQueriesContext(connection) as first:
        assert client.get(page_of(one)).status_code == 200
    with django_assert_num_queries(len(first.captured_queries)):
        page = client.get(page_of(many)).content.decode()
    assert all(person.name in page for person in people)


def test_the_ended_room_links_to_its_replay_when_there_is_one(client, host, public_replay):
    client.force_login(host)
    room_page = f"/rooms/{public_replay.room_id}/"
    link = f'href="/rooms/{public_replay.room_id}/replay/"'
    page = client.get(room_page).content.decode()
    assert link in page
    assert "Listen to the replay" in page
    Replay.objects.filter(pk=public_replay.pk).update(status=Replay.Status.PROCESSING)
    assert link in client.get(room_page).content.decode()
    Replay.objects.filter(pk=public_replay.pk).update(status=Replay.Status.FAILED)
    assert link not in client.get(room_page).content.decode()
    Replay.objects.filter(pk=public_replay.pk).delete()
    page = client.get(room_page).content.decode()
    assert link not in page
    assert "Back to the hallway" in page


# --- The audio -------------------------------------------------------------------------


def test_a_range_of_the_audio_is_sent_as_partial_content(client, public_replay):
    size = public_replay.audio_ogg.size
    response = client.get(page_of(public_replay) + "audio.ogg", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-99/{size}"
    assert response["Content-Type"] == "audio/ogg"
    body = b"".join(response.streaming_content)
    assert len(body) == 100
    assert body == Path(public_replay.audio_ogg.path).read_bytes()[:100]
    assert body.startswith(b"OggS")


def test_the_whole_audio_is_sent_without_a_range(client, public_replay):
    response = client.get(page_of(public_replay) + "audio.m4a")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mp4"
    assert response["Accept-Ranges"] == "bytes"
    body = b"".join(response.streaming_content)
    assert body == Path(public_replay.audio_m4a.path).read_bytes()
    assert body[4:8] == b"ftyp"


def test_a_range_outside_the_audio_is_refused(client, public_replay):
    size = public_replay.audio_ogg.size
    response = client.get(
        page_of(public_replay) + "audio.ogg", headers={"Range": f"bytes={size + 10}-"}
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_head_answers_without_a_body(client, public_replay):
    response = client.head(page_of(public_replay) + "audio.ogg")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg"
    assert response.get("Content-Length") == str(public_replay.audio_ogg.size)


def test_the_audio_is_not_found_for_an_outsider(client, closed_replay, host):
    audio = page_of(closed_replay) + "audio.ogg"
    assert client.get(audio).status_code == 404
    client.force_login(UserFactory())
    assert client.get(audio, headers={"Range": "bytes=0-99"}).status_code == 404
    client.force_login(host)
    assert client.get(audio, headers={"Range": "bytes=0-99"}).status_code == 206


def test_the_audio_of_a_replay_not_ready_is_not_found(client, host):
    replay = Replay.objects.create(room=ended_room(host), status=Replay.Status.PROCESSING)
    client.force_login(host)
    assert client.get(page_of(replay) + "audio.ogg").status_code == 404

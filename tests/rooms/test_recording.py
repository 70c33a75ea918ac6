"""Recording a room: only on the media server, and nobody's voice without their consent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from replays.models import Replay
from rooms.models import RecordConsent, Room, RoomMember
from rooms.selectors import room_snapshot
from rooms.services import lifecycle, recording, stage
from tests.factories import UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role


@pytest.fixture
def media_server(settings):
    """A media server configured; the commands sent to it after a commit fail and are
    logged (nothing here needs it to answer)."""
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    settings.JANUS_API_SECRET = settings.JANUS_ADMIN_KEY = "x" * 32


def _refused(call) -> tuple[str, int]:
    with pytest.raises(ApplicationError) as raised:
        call()
    return raised.value.code, raised.value.status


def test_a_room_cannot_record_without_a_media_server(host):
    assert _refused(lambda: lifecycle.room_create(host=host, title="Taped", recording=True)) == (
        "recording_unavailable",
        422,
    )
    assert not Room.objects.exists()
    room = lifecycle.room_create(host=host, title="Live")
    member(room, host, Role.MODERATOR)
    assert _refused(lambda: recording.recording_set(actor=host, room_id=room.pk, on=True)) == (
        "recording_unavailable",
        422,
    )
    assert Room.objects.get(pk=room.pk).recording is False


def test_a_site_that_keeps_rooms_on_the_mesh_records_none(host, media_server, settings):
    settings.ROOM_MEDIA = "mesh"
    assert _refused(lambda: lifecycle.room_create(host=host, title="Taped", recording=True)) == (
        "recording_unavailable",
        422,
    )


def test_a_recording_room_starts_on_the_media_server_with_the_hosts_consent(host, media_server):
    room = lifecycle.room_create(host=host, title="Taped", recording=True)
    assert (room.media, room.recording) == (Room.Media.SFU, True)
    assert list(RecordConsent.objects.values_list("room_id", "user_id")) == [(room.pk, host.pk)]
    assert Replay.objects.get(room=room).status == Replay.Status.RECORDING


def test_a_scheduled_recording_room_records_once_it_starts(host, media_server):
    later = timezone.now() + timedelta(days=1)
    room = lifecycle.room_create(host=host, title="Later", scheduled_for=later)
    lifecycle.room_update(actor=host, room_id=room.pk, recording=True)
    assert not Replay.objects.exists()
    lifecycle.room_start(actor=host, room_id=room.pk)
    room.refresh_from_db()
    assert (room.media, room.recording) == (Room.Media.SFU, True)
    assert Replay.objects.filter(room=room, status=Replay.Status.RECORDING).exists()
    assert RecordConsent.objects.filter(room=room, user=host).exists()


def test_a_scheduled_recording_room_starts_unrecorded_when_the_media_server_is_gone(
    host, media_server, settings
):
    later = timezone.now() + timedelta(days=1)
    room = lifecycle.room_create(host=host, title="Later", scheduled_for=later, recording=True)
    settings.JANUS_URL = ""
    lifecycle.room_start(actor=host, room_id=room.pk)
    room.refresh_from_db()
    assert (room.status, room.media, room.recording) == ("live", "mesh", False)
    assert not Replay.objects.exists()


@pytest.fixture
def taped(host, media_server):
    """A live recording room: the host on stage, and an invited listener."""
    room = lifecycle.room_create(host=host, title="Taped", recording=True)
    member(room, host, Role.MODERATOR, muted=False)
    invitee = UserFactory()
    member(room, invitee, invited_to_speak_at=timezone.now())
    return room, invitee


def test_an_invitee_comes_on_stage_only_agreeing_to_be_recorded(taped):
    room, invitee = taped
    assert _refused(lambda: stage.speaker_accept(actor=invitee, room_id=room.pk)) == (
        "record_consent_required",
        422,
    )
    row = RoomMember.objects.get(room=room, user=invitee)
    assert (row.role, row.invited_to_speak_at is not None) == (Role.LISTENER, True)
    stage.speaker_accept(actor=invitee, room_id=room.pk, record_consent=True)
    row.refresh_from_db()
    assert (row.role, row.muted) == (Role.SPEAKER, True)
    assert RecordConsent.objects.filter(room=room, user=invitee).exists()


def test_nobody_unmutes_in_a_recording_room_without_consent(taped):
    room, _ = taped
    co_host = UserFactory()
    member(room, co_host, Role.MODERATOR, muted=True)
    assert _refused(lambda: stage.mute_set(actor=co_host, room_id=room.pk, muted=False)) == (
        "record_consent_required",
        422,
    )
    assert room_snapshot(room_id=room.pk, user=co_host).record_consent is False
    recording.record_consent_set(actor=co_host, room_id=room.pk, consent=True)
    assert room_snapshot(room_id=room.pk, user=co_host).record_consent is True
    stage.mute_set(actor=co_host, room_id=room.pk, muted=False)
    assert RoomMember.objects.get(room=room, user=co_host).muted is False
    # Recording stops: the snapshot still says the co-host agreed, so a page that comes
    # back before recording starts again does not ask them again.
    Room.objects.filter(pk=room.pk).update(recording=False)
    assert room_snapshot(room_id=room.pk, user=co_host).record_consent is True


def test_declining_sends_a_speaker_to_the_audience_and_keeps_a_moderator_muted(taped):
    room, _ = taped
    speaker, moderator = UserFactory(), UserFactory()
    member(room, speaker, Role.SPEAKER, muted=False)
    member(room, moderator, Role.MODERATOR, muted=False)
    for person in (speaker, moderator):
        RecordConsent.objects.create(room=room, user=person)
        recording.record_consent_set(actor=person, room_id=room.pk, consent=False)
    rows = dict(
        RoomMember.objects.filter(user__in=[speaker, moderator]).values_list("user_id", "role")
    )
    assert rows == {speaker.pk: Role.LISTENER, moderator.pk: Role.MODERATOR}
    assert RoomMember.objects.get(user=moderator).muted is True
    assert not RecordConsent.objects.filter(user__in=[speaker, moderator]).exists()


def test_starting_to_record_mutes_whoever_has_not_agreed_first(
    host, media_server, listen, django_capture_on_commit_callbacks
):
    room = lifecycle.room_create(host=host, title="Mesh first")
    assert room.media == Room.Media.MESH
    member(room, host, Role.MODERATOR, muted=False)
    agreed, unasked = UserFactory(), UserFactory()
    member(room, agreed, Role.SPEAKER, muted=False)
    member(room, unasked, Role.SPEAKER, muted=False)
    RecordConsent.objects.create(room=room, user=agreed)
    events = listen(room.group_name)
    with django_capture_on_commit_callbacks(execute=True):
        recording.recording_set(actor=host, room_id=room.pk, on=True)
    room.refresh_from_db()
    assert (room.media, room.recording) == (Room.Media.SFU, True)
    muted = dict(RoomMember.objects.filter(room=room).values_list("user_id", "muted"))
    assert muted == {host.pk: False, agreed.pk: False, unasked.pk: True}
    frames = [(f["type"], f.get("member", {}).get("user", {}).get("id")) for f in events.frames()]
    assert frames == [
        ("media.mode", None),
        ("member.updated", unasked.pk),
        ("recording.changed", None),
    ]
    assert Replay.objects.filter(room=room).exists()


def test_only_moderators_start_or_stop_recording(taped):
    room, invitee = taped
    speaker = UserFactory()
    member(room, speaker, Role.SPEAKER)
    for person in (speaker, invitee):
        assert (
            _refused(
                lambda person=person: recording.recording_set(
                    actor=person, room_id=room.pk, on=False
                )
            )[1]
            == 403
        )
    assert Room.objects.get(pk=room.pk).recording is True


def test_the_end_of_a_recording_room_without_a_recording_fails_its_replay_alone(
    taped, settings, tmp_path, django_capture_on_commit_callbacks
):
    room, _ = taped
    settings.RECORDINGS_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.room_end(actor=room.host, room_id=room.pk)
    replay = Replay.objects.get(room=room)
    assert (replay.status, replay.failure) == ("failed", "The recording is missing.")
    assert Room.objects.get(pk=room.pk).status == Room.Status.ENDED


def test_the_new_room_form_offers_recording_only_where_the_site_can_record(client, host, settings):
    client.force_login(host)
    form = {"title": "Friday", "visibility": "open", "start": "now", "time_zone": "UTC"}
    assert 'name="record"' not in client.get("/rooms/new/").content.decode()
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    settings.JANUS_API_SECRET = settings.JANUS_ADMIN_KEY = "x" * 32
    assert 'name="record"' in client.get("/rooms/new/").content.decode()
    assert client.post("/rooms/new/", {**form, "record": "on"}).status_code == 302
    room = Room.objects.get(title="Friday")
    assert (room.recording, room.media) == (True, Room.Media.SFU)


def test_the_edit_form_turns_recording_on_for_a_scheduled_room(client, host, media_server):
    later = timezone.now() + timedelta(days=1)
    room = lifecycle.room_create(host=host, title="Later", scheduled_for=later)
    client.force_login(host)
    page = client.get(f"/rooms/{room.pk}/edit/").content.decode()
    assert 'name="record"' in page
    form = {
        "title": "Later",
        "scheduled_for": later.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "UTC",
        "record": "on",
    }
    assert client.post(f"/rooms/{room.pk}/edit/", form).status_code == 302
    room.refresh_from_db()
    assert room.recording is True

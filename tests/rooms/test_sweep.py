from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from moderation.models import ModerationLog
from rooms.models import Room, RoomMember
from rooms.services import presence
from rooms.tasks import sweep_presence as sweep_task
from tests.factories import UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role


def _stale():
    return timezone.now() - timedelta(seconds=120)


def test_the_sweep_drops_members_not_seen_for_too_long(
    live_room, host, listen, django_capture_on_commit_callbacks
):
    member(live_room, host, Role.MODERATOR)
    speaker, listener, fresh = UserFactory(), UserFactory(), UserFactory()
    member(live_room, speaker, Role.SPEAKER, last_seen=_stale())
    member(live_room, listener, last_seen=_stale())
    member(live_room, fresh)
    events = listen(live_room.group_name)
    with django_capture_on_commit_callbacks(execute=True):
        presence.sweep_presence()
    assert set(RoomMember.objects.values_list("user_id", flat=True)) == {host.pk, fresh.pk}
    frames = events.frames()
    assert [f["type"] for f in frames] == ["member.left", "members.batch"]
    assert frames[0]["user_id"] == speaker.pk
    assert frames[1]["left"] == [listener.pk]
    assert frames[1]["audience_count"] == 1


def test_the_sweep_ends_a_room_once_the_grace_period_is_over(live_room, settings):
    settings.ROOM_MODERATOR_GRACE_SECONDS = 60
    Room.objects.filter(pk=live_room.pk).update(
        unmoderated_since=timezone.now() - timedelta(seconds=30)
    )
    presence.sweep_presence()
    assert Room.objects.get(pk=live_room.pk).status == Room.Status.LIVE
    presence.sweep_presence(now=timezone.now() + timedelta(seconds=31))
    room = Room.objects.get(pk=live_room.pk)
    assert room.status == Room.Status.ENDED
    log = ModerationLog.objects.get(room=room)
    assert (log.actor, log.note) == (None, "no_moderator")


def test_a_dead_moderator_starts_the_grace_period(live_room, host):
    member(live_room, host, Role.MODERATOR, last_seen=_stale())
    Room.objects.filter(pk=live_room.pk).update(unmoderated_since=None)
    presence.sweep_presence()
    room = Room.objects.get(pk=live_room.pk)
    assert room.unmoderated_since is not None
    assert room.status == Room.Status.LIVE


def test_a_moderated_room_lives_on(live_room, host):
    member(live_room, host, Role.MODERATOR)
    Room.objects.filter(pk=live_room.pk).update(unmoderated_since=None)
    presence.sweep_presence(now=timezone.now() + timedelta(seconds=30))
    room = Room.objects.get(pk=live_room.pk)
    assert (room.status, room.unmoderated_since) == (Room.Status.LIVE, None)


def test_the_task_and_the_command_do_the_same_work(live_room, capsys):
    member(live_room, UserFactory(), last_seen=_stale())
    assert sweep_task.delay().get() == {"rooms_swept": 1, "rooms_ended": 0}
    member(live_room, UserFactory(), last_seen=_stale())
    call_command("sweep_presence")
    assert "Swept 1 room(s); ended 0 room(s)." in capsys.readouterr().out
    assert not RoomMember.objects.exists()


def test_sweeping_twice_is_harmless(live_room):
    member(live_room, UserFactory(), last_seen=_stale())
    presence.sweep_presence()
    assert presence.sweep_presence() == {"rooms_swept": 0, "rooms_ended": 0}

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from rooms.models import Room, RoomMember
from rooms.services import lifecycle, presence, stage
from tests.factories import UserFactory, follower_of
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role


@pytest.fixture
def events(live_room, listen):
    return listen(live_room.group_name)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Runs the on-commit pushes of what happens inside the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_host_joins_as_moderator_and_everyone_hears_it(live_room, host, events, commit):
    with commit():
        joined = presence.room_join(user=host, room_id=live_room.pk, channel_name="c!host")
    assert not joined.batched
    assert joined.member.role == Role.MODERATOR
    (frame,) = events.frames()
    assert frame["type"] == "member.joined"
    assert frame["seq"] == 1
    assert frame["member"]["user"] == {
        "id": host.pk,
        "username": "host",
        "display_name": "Host",
        "avatar_url": None,
    }
    assert frame["member"]["role"] == "moderator"
    live_room.refresh_from_db()
    assert live_room.unmoderated_since is None


def test_a_listener_join_is_left_for_the_batch(live_room, user, events, commit):
    with commit():
        joined = presence.room_join(user=user, room_id=live_room.pk, channel_name="c!1")
    assert joined.batched
    assert joined.member.role == Role.LISTENER
    assert joined.member.muted
    assert events.frames() == []


def test_co_hosts_become_moderators_when_they_arrive(host):
    co = follower_of(host)
    room = lifecycle.room_create(host=host, title="Pair", co_hosts=[co])
    assert (
        presence.room_join(user=co, room_id=room.pk, channel_name="c!co").member.role
        == Role.MODERATOR
    )


def test_a_second_connection_replaces_the_first_without_a_leave(live_room, host, commit, listen):
    presence.room_join(user=host, room_id=live_room.pk, channel_name="c!old")
    old = listen()
    room_events = listen(live_room.group_name)
    with commit():
        again = presence.room_join(user=host, room_id=live_room.pk, channel_name=old.channel)
    with commit():
        presence.room_join(user=host, room_id=live_room.pk, channel_name="c!new")
    assert again.member.pk == RoomMember.objects.get(user=host).pk
    assert [m["type"] for m in old.messages()] == ["room.replaced"]
    assert room_events.frames() == []
    assert RoomMember.objects.get(user=host).channel_name == "c!new"
    # The replaced connection's goodbye is ignored.
    assert (
        presence.room_leave(user=host, room_id=live_room.pk, channel_name=old.channel).member
        is None
    )
    assert RoomMember.objects.filter(user=host).exists()


def test_a_full_room_turns_listeners_away(live_room, settings):
    settings.ROOM_MAX_MEMBERS = 2
    member(live_room, UserFactory())
    member(live_room, UserFactory())
    with pytest.raises(ApplicationError) as raised:
        presence.room_join(user=UserFactory(), room_id=live_room.pk, channel_name="c!x")
    assert raised.value.code == "room_full"


def test_the_host_gets_in_even_when_full(live_room, host, settings):
    settings.ROOM_MAX_MEMBERS = 1
    member(live_room, UserFactory())
    assert presence.room_join(user=host, room_id=live_room.pk, channel_name="c!h").member


def test_joining_an_ended_room_is_not_found(live_room, host, user):
    lifecycle.room_end(actor=host, room_id=live_room.pk)
    with pytest.raises(ApplicationError) as raised:
        presence.room_join(user=user, room_id=live_room.pk, channel_name="c!1")
    assert raised.value.status == 404


def test_a_stage_member_who_loses_the_connection_keeps_the_place(live_room, host, events, commit):
    speaker = UserFactory()
    member(live_room, host, Role.MODERATOR)
    member(live_room, speaker, Role.SPEAKER, channel="c!s")
    with commit():
        presence.room_leave(user=speaker, room_id=live_room.pk, channel_name="c!s", explicit=False)
    (frame,) = events.frames()
    assert frame["type"] == "member.updated"
    assert frame["member"]["connected"] is False
    assert RoomMember.objects.get(user=speaker).role == Role.SPEAKER
    with commit():
        presence.room_join(user=speaker, room_id=live_room.pk, channel_name="c!s2")
    (back,) = events.frames()
    assert back["member"]["connected"] is True
    assert back["member"]["role"] == "speaker"


def test_leaving_the_stage_quietly_is_a_left_event(live_room, host, events, commit):
    speaker = UserFactory()
    member(live_room, speaker, Role.SPEAKER, channel="c!s")
    with commit():
        gone = presence.room_leave(user=speaker, room_id=live_room.pk)
    assert not gone.batched
    (frame,) = events.frames()
    assert frame == {"type": "member.left", "seq": 1, "user_id": speaker.pk}


def test_the_last_moderator_leaving_starts_the_grace_period(live_room, host, commit):
    presence.room_join(user=host, room_id=live_room.pk, channel_name="c!h")
    live_room.refresh_from_db()
    assert live_room.unmoderated_since is None
    presence.room_leave(user=host, room_id=live_room.pk, channel_name="c!h", explicit=False)
    live_room.refresh_from_db()
    assert live_room.unmoderated_since is not None
    presence.room_join(user=host, room_id=live_room.pk, channel_name="c!h2")
    live_room.refresh_from_db()
    assert live_room.unmoderated_since is None


def test_audience_batch_carries_current_state_and_leaves(live_room, events, commit):
    staying, going, promoted = UserFactory(), UserFactory(), UserFactory()
    member(live_room, staying)
    member(live_room, promoted, Role.SPEAKER)
    with commit():
        flushed = presence.audience_flush(
            room_id=live_room.pk, user_ids={staying.pk, going.pk, promoted.pk}
        )
    (frame,) = events.frames()
    assert frame["type"] == "members.batch"
    assert frame["seq"] == flushed.seq == 1
    assert flushed.audience_count == 1
    assert frame["left"] == [going.pk]
    roles = {m["user"]["id"]: m["role"] for m in frame["joined"]}
    assert roles == {staying.pk: "listener", promoted.pk: "speaker"}
    assert frame["audience_count"] == 1


def test_an_empty_batch_sends_nothing(live_room, events, commit):
    with commit():
        assert presence.audience_flush(room_id=live_room.pk, user_ids=set()) is None
    assert events.frames() == []


def test_every_state_event_takes_the_next_number(live_room, host, events, commit):
    listener = UserFactory()
    with commit():
        presence.room_join(user=host, room_id=live_room.pk, channel_name="c!h")
        presence.room_join(user=listener, room_id=live_room.pk, channel_name="c!l")
        presence.audience_flush(room_id=live_room.pk, user_ids={listener.pk})
        stage.hand_raise(actor=listener, room_id=live_room.pk)
        stage.speaker_invite(actor=host, room_id=live_room.pk, user_id=listener.pk)
        stage.speaker_accept(actor=listener, room_id=live_room.pk)
        stage.reaction_send(actor=listener, room_id=live_room.pk, emoji="🔥")
        stage.mute_set(actor=listener, room_id=live_room.pk, muted=False)
    frames = events.frames()
    numbered = [f["seq"] for f in frames if "seq" in f]
    assert numbered == list(range(1, len(numbered) + 1))
    assert len(numbered) == 6
    assert [f["type"] for f in frames if "seq" not in f] == ["reaction"]
    live_room.refresh_from_db()
    assert live_room.seq == 6


def test_heartbeat_refreshes_only_the_current_connection(live_room, user):
    old = timezone.now() - timedelta(minutes=5)
    member(live_room, user, channel="c!1", last_seen=old)
    assert presence.presence_refresh(channel_names=["c!other"]) == 0
    assert RoomMember.objects.get(user=user).last_seen == old
    assert presence.presence_refresh(channel_names=["c!1"]) == 1
    assert RoomMember.objects.get(user=user).last_seen > old


def test_heartbeats_of_many_connections_are_written_in_chunked_updates(
    live_room, monkeypatch, django_assert_num_queries
):
    old = timezone.now() - timedelta(minutes=5)
    people = [member(live_room, UserFactory(), channel=f"c!{i}", last_seen=old) for i in range(5)]
    monkeypatch.setattr(presence, "PRESENCE_REFRESH_CHUNK", 2)
    with django_assert_num_queries(3):
        refreshed = presence.presence_refresh(channel_names=[f"c!{i}" for i in range(5)])
    assert refreshed == 5
    assert all(m.last_seen > old for m in RoomMember.objects.filter(pk__in=[p.pk for p in people]))


def test_room_ended_frame_is_numbered_after_the_last_event(live_room, host, events, commit):
    with commit():
        presence.room_join(user=host, room_id=live_room.pk, channel_name="c!h")
        lifecycle.room_end(actor=host, room_id=live_room.pk)
    messages = events.messages()
    ended = json.loads(messages[-1]["text"])
    assert ended == {"type": "room.ended", "seq": 2, "reason": "ended"}
    assert Room.objects.get(pk=live_room.pk).seq == 2


def test_a_full_stage_turns_the_next_speaker_away(live_room, host):
    live_room.speaker_cap = 2
    live_room.save()
    member(live_room, host, Role.MODERATOR)
    member(live_room, UserFactory(), Role.SPEAKER)
    invited = UserFactory()
    member(live_room, invited, invited_to_speak_at=timezone.now())
    with pytest.raises(ApplicationError) as raised:
        stage.speaker_accept(actor=invited, room_id=live_room.pk)
    assert (raised.value.code, raised.value.status) == ("stage_full", 409)
    assert RoomMember.objects.get(user=invited).role == Role.LISTENER


def test_a_batch_lists_only_newcomers_on_the_audience_first_page(
    live_room, events, commit, settings
):
    """In a big room the batch counts newcomers past the first page instead of listing
    them: it does not grow with the audience."""
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 3
    earlier = [UserFactory() for _ in range(2)]
    for person in earlier:
        member(live_room, person)
    newcomers = [UserFactory() for _ in range(4)]
    for person in newcomers:
        member(live_room, person)
    raised = UserFactory()
    member(live_room, raised, Role.SPEAKER)
    with commit():
        presence.audience_flush(room_id=live_room.pk, user_ids={p.pk for p in [*newcomers, raised]})
    (frame,) = events.frames()
    # One place was left on the first page: the first newcomer takes it.
    listed = [m["user"]["id"] for m in frame["joined"]]
    assert listed == [newcomers[0].pk, raised.pk]
    assert frame["audience_count"] == 6

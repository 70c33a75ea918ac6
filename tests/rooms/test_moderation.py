"""Moderation reaching into rooms: staff actions, blocks and club bans."""

import json

import pytest

from core.errors import ApplicationError
from follows import services as follows_services
from follows.models import ClubMembership
from moderation.models import ModerationLog
from rooms.models import Room, RoomBan, RoomMember
from rooms.permissions import room_access_to_enter
from rooms.selectors import hallway, room_snapshot
from rooms.services import lifecycle, stage
from tests.factories import (
    BlockFactory,
    ClubFactory,
    MembershipFactory,
    UserFactory,
    make_moderator,
)
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role
Action = ModerationLog.Action


@pytest.fixture
def staff():
    return make_moderator(username="staffer")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _frames(listener) -> list[dict]:
    return [json.loads(m["text"]) | {"_close": m.get("code")} for m in listener.messages()]


# --- staff end rooms and remove people ------------------------------------------------------


def test_staff_end_a_room_they_do_not_moderate(live_room, host, staff, listen, commit):
    member(live_room, host, Role.MODERATOR)
    events = listen(live_room.group_name)
    with commit():
        lifecycle.room_end(
            actor=staff, room_id=live_room.pk, reason="staff", as_staff=True, note="Abusive."
        )
    live_room.refresh_from_db()
    assert live_room.status == Room.Status.ENDED
    assert not RoomMember.objects.filter(room=live_room).exists()
    (frame,) = _frames(events)
    assert (frame["type"], frame["reason"], frame["_close"]) == ("room.ended", "staff", 4404)
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.room, log.note) == (
        Action.STAFF_END_ROOM,
        staff,
        live_room,
        "Abusive.",
    )


def test_ending_as_staff_needs_the_permission(live_room, host):
    # None stands for no one signed in: refused, not a crash.
    for actor in (host, UserFactory(is_staff=True), None):
        with pytest.raises(ApplicationError) as raised:
            lifecycle.room_end(actor=actor, room_id=live_room.pk, as_staff=True)
        assert raised.value.status == 403
    live_room.refresh_from_db()
    assert live_room.is_live


def test_staff_remove_someone_for_good(live_room, staff, user, listen, commit):
    socket = listen()
    member(live_room, live_room.host, Role.MODERATOR)
    member(live_room, user, Role.SPEAKER, channel=socket.channel)
    events = listen(live_room.group_name)
    with commit():
        stage.member_remove_by_staff(
            actor=staff, room_id=live_room.pk, user_id=user.pk, note="Slurs."
        )
    assert not RoomMember.objects.filter(room=live_room, user=user).exists()
    assert RoomBan.objects.get(room=live_room, user=user).banned_by == staff
    (left,) = _frames(events)
    assert (left["type"], left["user_id"], left["removed"]) == ("member.left", user.pk, True)
    assert "audience_count" not in left  # a speaker: the audience is as it was
    (told,) = _frames(socket)
    assert (told["code"], told["_close"]) == ("removed", 4403)
    assert told["message"] == "Site staff removed you from this room."
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target, log.room, log.note) == (
        Action.STAFF_REMOVE_MEMBER,
        staff,
        user,
        live_room,
        "Slurs.",
    )
    with pytest.raises(ApplicationError):
        room_access_to_enter(user=user, room=live_room)


def test_staff_cannot_remove_the_host(live_room, host, staff):
    member(live_room, host, Role.MODERATOR)
    with pytest.raises(ApplicationError) as raised:
        stage.member_remove_by_staff(actor=staff, room_id=live_room.pk, user_id=host.pk)
    assert "end the room" in raised.value.message
    assert RoomMember.objects.filter(room=live_room, user=host).exists()


def test_removing_as_staff_needs_the_permission(live_room, user):
    member(live_room, user)
    with pytest.raises(ApplicationError) as raised:
        stage.member_remove_by_staff(
            actor=UserFactory(is_staff=True), room_id=live_room.pk, user_id=user.pk
        )
    assert raised.value.status == 403
    assert RoomMember.objects.filter(room=live_room, user=user).exists()


def test_a_moderators_removal_is_still_logged_as_theirs(live_room, host, user):
    member(live_room, host, Role.MODERATOR)
    member(live_room, user)
    stage.member_remove(actor=host, room_id=live_room.pk, user_id=user.pk)
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target) == (Action.REMOVE, host, user)
    assert RoomBan.objects.filter(room=live_room, user=user).exists()


# --- the log of in-room moderation -------------------------------------------------------

IN_ROOM = {
    Action.MUTE: lambda room, host, target: stage.mute_force(
        actor=host, room_id=room.pk, user_id=target.pk
    ),
    Action.MOVE_TO_AUDIENCE: lambda room, host, target: stage.speaker_remove(
        actor=host, room_id=room.pk, user_id=target.pk
    ),
    Action.GRANT_MODERATOR: lambda room, host, target: stage.moderator_grant(
        actor=host, room_id=room.pk, user_id=target.pk
    ),
    Action.REMOVE: lambda room, host, target: stage.member_remove(
        actor=host, room_id=room.pk, user_id=target.pk
    ),
    Action.END_ROOM: lambda room, host, target: lifecycle.room_end(actor=host, room_id=room.pk),
}


@pytest.mark.parametrize("action", list(IN_ROOM))
def test_every_in_room_moderator_action_is_logged(live_room, host, user, action):
    member(live_room, host, Role.MODERATOR)
    member(live_room, user, Role.SPEAKER, muted=False)
    IN_ROOM[action](live_room, host, user)
    log = ModerationLog.objects.get()
    target = None if action == Action.END_ROOM else user
    assert (log.action, log.actor, log.target, log.room) == (action, host, target, live_room)
    assert log.created is not None


def test_revoking_moderator_rights_is_logged(live_room, host, user):
    member(live_room, host, Role.MODERATOR)
    member(live_room, user, Role.MODERATOR)
    stage.moderator_revoke(actor=host, room_id=live_room.pk, user_id=user.pk)
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target) == (Action.REVOKE_MODERATOR, host, user)


# --- blocks -------------------------------------------------------------------------------


def test_blocking_takes_the_person_out_of_rooms_you_moderate(live_room, host, user, listen, commit):
    socket = listen()
    member(live_room, host, Role.MODERATOR)
    member(live_room, user, channel=socket.channel)
    events = listen(live_room.group_name)
    with commit():
        follows_services.block_create(blocker=host, blocked=user)
    assert not RoomMember.objects.filter(room=live_room, user=user).exists()
    (left,) = _frames(events)
    assert (left["type"], left["user_id"]) == ("member.left", user.pk)
    # A listener's leaving carries the audience's size (readers may have them only counted).
    assert left["audience_count"] == 0
    (told,) = _frames(socket)
    assert (told["message"], told["_close"]) == ("You cannot stay in this room.", 4403)
    # The block keeps them out; no room ban is needed, so unblocking lets them back.
    assert not RoomBan.objects.exists()
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target, log.note) == (
        Action.REMOVE,
        host,
        user,
        "blocked by a moderator",
    )
    follows_services.block_delete(blocker=host, blocked=user)
    room_access_to_enter(user=user, room=live_room)


def test_a_current_moderator_blocking_also_removes(live_room, host, user):
    mod = UserFactory()
    member(live_room, host, Role.MODERATOR)
    member(live_room, mod, Role.MODERATOR)
    member(live_room, user, Role.SPEAKER)
    follows_services.block_create(blocker=mod, blocked=user)
    assert not RoomMember.objects.filter(room=live_room, user=user).exists()


def test_blocking_from_the_audience_removes_nobody(live_room, host, user):
    listener = UserFactory()
    member(live_room, host, Role.MODERATOR)
    member(live_room, listener)
    member(live_room, user)
    follows_services.block_create(blocker=listener, blocked=user)
    assert RoomMember.objects.filter(room=live_room, user=user).exists()
    assert not ModerationLog.objects.exists()


def test_blocking_another_moderator_or_the_host_removes_nobody(live_room, host):
    mod = UserFactory()
    member(live_room, host, Role.MODERATOR)
    member(live_room, mod, Role.MODERATOR)
    follows_services.block_create(blocker=mod, blocked=host)
    follows_services.block_create(blocker=host, blocked=mod)
    assert RoomMember.objects.filter(room=live_room).count() == 2


def test_blocking_through_the_api_removes_too(live_room, host, user, api_client):
    member(live_room, host, Role.MODERATOR)
    member(live_room, user)
    api_client.force_authenticate(user=host)
    assert api_client.post(f"/api/users/{user.username}/block/").status_code == 201
    assert not RoomMember.objects.filter(room=live_room, user=user).exists()


def test_a_moderator_cannot_invite_someone_they_blocked(live_room, host, user):
    member(live_room, host, Role.MODERATOR)
    member(live_room, user)
    BlockFactory(blocker=host, blocked=user)
    with pytest.raises(ApplicationError) as raised:
        stage.speaker_invite(actor=host, room_id=live_room.pk, user_id=user.pk)
    assert raised.value.status == 403
    assert RoomMember.objects.get(room=live_room, user=user).invited_to_speak_at is None


def test_the_snapshot_marks_members_the_reader_blocked(live_room, host, user):
    other, outside = UserFactory(), UserFactory()
    member(live_room, host, Role.MODERATOR)
    member(live_room, user)
    member(live_room, other)
    BlockFactory(blocker=host, blocked=user)
    BlockFactory(blocker=host, blocked=outside)
    BlockFactory(blocker=other, blocked=host)
    assert room_snapshot(room_id=live_room.pk, user=host).you_blocked == [user.pk]
    assert room_snapshot(room_id=live_room.pk, user=other).you_blocked == [host.pk]
    assert room_snapshot(room_id=live_room.pk, user=user).you_blocked == []


def test_the_hallway_hides_rooms_of_hosts_you_blocked_or_who_blocked_you(host, user):
    room = lifecycle.room_create(host=host, title="Open to all")
    assert room in hallway(viewer=user)["live"]
    block = BlockFactory(blocker=host, blocked=user)
    assert room not in hallway(viewer=user)["live"]
    block.delete()
    BlockFactory(blocker=user, blocked=host)
    assert room not in hallway(viewer=user)["live"]


# --- club bans ----------------------------------------------------------------------------


@pytest.fixture
def club_room(host):
    club = ClubFactory()
    MembershipFactory(club=club, user=host, role=ClubMembership.Role.ADMIN)
    return lifecycle.room_create(host=host, title="Club night", club=club)


def test_club_bans_keep_people_out_of_the_clubs_rooms(club_room, host, user):
    room_access_to_enter(user=user, room=club_room)
    follows_services.club_ban(actor=host, club=club_room.club, user=user)
    with pytest.raises(ApplicationError) as raised:
        room_access_to_enter(user=user, room=club_room)
    assert raised.value.status == 403
    assert "banned you" in raised.value.message
    other_room = lifecycle.room_create(host=host, title="Not the club's")
    room_access_to_enter(user=user, room=other_room)


def test_club_bans_keep_out_even_the_host_of_a_club_room(club_room, host):
    leader = UserFactory()
    MembershipFactory(club=club_room.club, user=leader, role=ClubMembership.Role.LEADER)
    theirs = lifecycle.room_create(host=leader, title="Leader's", club=club_room.club)
    follows_services.club_ban(actor=host, club=club_room.club, user=leader)
    with pytest.raises(ApplicationError):
        room_access_to_enter(user=leader, room=theirs)


def test_a_club_ban_takes_the_person_out_of_the_clubs_live_rooms(
    club_room, host, user, listen, commit
):
    socket = listen()
    elsewhere = lifecycle.room_create(host=host, title="Not the club's")
    member(club_room, host, Role.MODERATOR)
    member(club_room, user, Role.SPEAKER, channel=socket.channel)
    member(elsewhere, user)
    with commit():
        follows_services.club_ban(actor=host, club=club_room.club, user=user, reason="Trolling.")
    assert not RoomMember.objects.filter(room=club_room, user=user).exists()
    assert RoomMember.objects.filter(room=elsewhere, user=user).exists()
    (told,) = _frames(socket)
    assert told["_close"] == 4403
    assert told["message"] == f"An admin of {club_room.club.name} banned you from its rooms."


def test_the_hallway_hides_rooms_of_clubs_that_banned_you(club_room, host, user):
    assert club_room in hallway(viewer=user)["live"]
    follows_services.club_ban(actor=host, club=club_room.club, user=user)
    assert club_room not in hallway(viewer=user)["live"]


def test_removing_a_listener_tells_the_room_the_audience_left(live_room, host, listen, commit):
    member(live_room, host, Role.MODERATOR)
    listeners = [UserFactory() for _ in range(3)]
    for n, person in enumerate(listeners):
        member(live_room, person, channel=f"test!{n}")
    events = listen(live_room.group_name)
    with commit():
        stage.member_remove(actor=host, room_id=live_room.pk, user_id=listeners[2].pk)
    (left,) = _frames(events)
    assert (left["user_id"], left["removed"], left["audience_count"]) == (listeners[2].pk, True, 2)

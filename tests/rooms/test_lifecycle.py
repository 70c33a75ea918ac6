from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import ApplicationError
from follows.models import ClubMembership
from moderation.models import ModerationLog
from rooms.models import Room, RoomMember, RoomRsvp
from rooms.services import lifecycle, presence
from tests.factories import ClubFactory, MembershipFactory, UserFactory, follower_of
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db


def test_a_room_without_a_time_is_live_at_once(host):
    room = lifecycle.room_create(host=host, title="  Now  ")
    assert room.status == Room.Status.LIVE
    assert room.title == "Now"
    assert room.started_at is not None
    # Nobody is connected yet: the moderator grace period is running.
    assert room.unmoderated_since is not None


def test_room_ids_are_unguessable(host):
    a, b = (
        lifecycle.room_create(host=host, title="A"),
        lifecycle.room_create(host=host, title="B"),
    )
    assert a.pk.version == 4
    assert a.pk != b.pk


def test_a_scheduled_room_waits(host):
    when = timezone.now() + timedelta(days=1)
    room = lifecycle.room_create(host=host, title="Tomorrow", scheduled_for=when)
    assert (room.status, room.scheduled_for, room.started_at) == (Room.Status.SCHEDULED, when, None)


@pytest.mark.parametrize("delta", [timedelta(minutes=-1), timedelta(days=400)])
def test_scheduling_in_the_past_or_too_far_is_refused(host, delta):
    with pytest.raises(ApplicationError):
        lifecycle.room_create(host=host, title="When?", scheduled_for=timezone.now() + delta)
    assert not Room.objects.exists()


def test_titles_are_required_and_bounded(host):
    with pytest.raises(ValidationError):
        lifecycle.room_create(host=host, title="   ")
    with pytest.raises(ValidationError):
        lifecycle.room_create(host=host, title="t" * 121)
    with pytest.raises(ValidationError):
        lifecycle.room_create(host=host, title="ok", visibility="secret")


@pytest.mark.parametrize("cap", [0, 9, 100])
def test_the_speaker_cap_stays_within_the_mesh(host, cap, settings):
    settings.ROOM_SPEAKER_CAP = 8
    with pytest.raises(ApplicationError):
        lifecycle.room_create(host=host, title="Cap", speaker_cap=cap)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("leader", True), ("member", False), (None, False)],
)
def test_only_club_admins_and_leaders_host_club_rooms(host, role, allowed):
    club = ClubFactory()
    if role:
        MembershipFactory(club=club, user=host, role=role)
    if allowed:
        assert lifecycle.room_create(host=host, title="Club talk", club=club).club == club
    else:
        with pytest.raises(ApplicationError) as raised:
            lifecycle.room_create(host=host, title="Club talk", club=club)
        assert raised.value.status == 403


def test_a_pending_leader_cannot_host_for_the_club(host):
    club = ClubFactory()
    MembershipFactory(club=club, user=host, role="leader", status=ClubMembership.Status.PENDING)
    with pytest.raises(ApplicationError):
        lifecycle.room_create(host=host, title="Club talk", club=club)


def test_co_hosts_never_include_the_host(host):
    other = follower_of(host)
    room = lifecycle.room_create(host=host, title="Pair", co_hosts=[host, other])
    assert list(room.co_hosts.all()) == [other]


def test_host_or_co_host_starts_a_scheduled_room(host):
    co, stranger = follower_of(host), UserFactory()
    room = lifecycle.room_create(
        host=host, title="Later", scheduled_for=timezone.now() + timedelta(hours=2), co_hosts=[co]
    )
    with pytest.raises(ApplicationError) as raised:
        lifecycle.room_start(actor=stranger, room_id=room.pk)
    assert raised.value.status == 403
    started = lifecycle.room_start(actor=co, room_id=room.pk)
    assert started.status == Room.Status.LIVE
    with pytest.raises(ApplicationError) as raised:
        lifecycle.room_start(actor=host, room_id=room.pk)
    assert raised.value.status == 409


def test_ending_tells_everyone_and_lets_them_go(
    live_room, host, listen, django_capture_on_commit_callbacks
):
    listener = UserFactory()
    member(live_room, host, "moderator")
    member(live_room, listener)
    events = listen(live_room.group_name)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.room_end(actor=host, room_id=live_room.pk)
    live_room.refresh_from_db()
    assert live_room.status == Room.Status.ENDED
    assert live_room.ended_at is not None
    assert not RoomMember.objects.filter(room=live_room).exists()
    (message,) = events.messages()
    assert message["type"] == "room.close"
    assert message["code"] == 4404
    assert '"type":"room.ended"' in message["text"]
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.room) == ("end_room", host, live_room)


def test_ending_twice_is_a_conflict(live_room, host):
    lifecycle.room_end(actor=host, room_id=live_room.pk)
    with pytest.raises(ApplicationError) as raised:
        lifecycle.room_end(actor=host, room_id=live_room.pk)
    assert raised.value.status == 409


def test_a_co_host_can_end_the_room_from_outside(host):
    co = follower_of(host)
    room = lifecycle.room_create(host=host, title="Pair", co_hosts=[co])
    assert lifecycle.room_end(actor=co, room_id=room.pk).status == Room.Status.ENDED


def test_remind_me_on_scheduled_rooms_only(host, user):
    later = lifecycle.room_create(
        host=host, title="Later", scheduled_for=timezone.now() + timedelta(hours=1)
    )
    assert lifecycle.rsvp_create(user=user, room_id=later.pk)[1] is True
    assert lifecycle.rsvp_create(user=user, room_id=later.pk)[1] is False
    assert RoomRsvp.objects.count() == 1
    assert lifecycle.rsvp_delete(user=user, room_id=later.pk) is True
    now = lifecycle.room_create(host=host, title="Now")
    with pytest.raises(ApplicationError) as raised:
        lifecycle.rsvp_create(user=user, room_id=now.pk)
    assert raised.value.status == 409


def test_remind_me_needs_a_room_you_may_enter(host, user):
    later = lifecycle.room_create(
        host=host,
        title="Later",
        visibility=Room.Visibility.CLOSED,
        scheduled_for=timezone.now() + timedelta(hours=1),
    )
    with pytest.raises(ApplicationError) as raised:
        lifecycle.rsvp_create(user=user, room_id=later.pk)
    assert raised.value.status == 403


def _refused(make) -> tuple[str, int]:
    with pytest.raises(ApplicationError) as raised:
        make()
    return raised.value.code, raised.value.status


def test_one_person_hosts_a_few_live_rooms_at_once(host, settings):
    """One account made 60 live rooms in 8 s."""
    settings.ROOM_LIVE_PER_PERSON = 2
    first, _ = (lifecycle.room_create(host=host, title=f"Live {n}") for n in range(2))
    assert _refused(lambda: lifecycle.room_create(host=host, title="Third")) == (
        "too_many_live_rooms",
        409,
    )
    # A room for later is no live room; starting it is, and is refused the same way.
    later = lifecycle.room_create(
        host=host, title="Later", scheduled_for=timezone.now() + timedelta(hours=1)
    )
    assert _refused(lambda: lifecycle.room_start(actor=host, room_id=later.pk))[0] == (
        "too_many_live_rooms"
    )
    lifecycle.room_end(actor=host, room_id=first.pk)
    assert lifecycle.room_start(actor=host, room_id=later.pk).status == Room.Status.LIVE
    # Someone else's rooms are theirs to count.
    assert lifecycle.room_create(host=UserFactory(), title="Theirs").status == Room.Status.LIVE
    assert Room.objects.filter(host=host, status=Room.Status.LIVE).count() == 2


def test_one_person_makes_so_many_rooms_an_hour(host, settings):
    settings.ROOM_CREATIONS_PER_HOUR = 2
    later = timezone.now() + timedelta(days=1)
    for n in range(2):
        lifecycle.room_create(host=host, title=f"Room {n}", scheduled_for=later)
    assert _refused(
        lambda: lifecycle.room_create(host=host, title="One more", scheduled_for=later)
    ) == ("rate_limited", 429)
    assert Room.objects.filter(host=host).count() == 2


@pytest.fixture
def small_media_server(settings):
    """A media server (configured; nothing here talks to it) with room for two rooms."""
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    settings.JANUS_API_SECRET = settings.JANUS_ADMIN_KEY = "x" * 32
    settings.JANUS_FORWARD_PORT_RANGE = "40001-40002"


def test_a_full_media_server_says_so_when_a_room_would_start_on_it(small_media_server, settings):
    settings.ROOM_MEDIA = "sfu"
    for n in range(2):
        assert lifecycle.room_create(host=UserFactory(), title=f"On it {n}").media == "sfu"
    assert _refused(lambda: lifecycle.room_create(host=UserFactory(), title="No room")) == (
        "media_full",
        503,
    )
    assert not Room.objects.filter(title="No room").exists()


def test_a_mesh_room_that_would_move_to_a_full_media_server_takes_nobody_more(
    small_media_server, settings
):
    settings.ROOM_MEDIA, settings.ROOM_MESH_MAX_MEMBERS = "sfu", 2
    for n in range(2):
        lifecycle.room_create(host=UserFactory(), title=f"On it {n}")
    settings.ROOM_MEDIA = "auto"
    room = lifecycle.room_create(host=UserFactory(), title="Growing")
    for person in UserFactory.create_batch(2):
        presence.room_join(user=person, room_id=room.pk, channel_name=f"test!{person.pk}")
    newcomer = UserFactory()
    assert _refused(
        lambda: presence.room_join(user=newcomer, room_id=room.pk, channel_name="test!new")
    ) == ("media_full", 503)
    room.refresh_from_db()
    assert room.media == Room.Media.MESH

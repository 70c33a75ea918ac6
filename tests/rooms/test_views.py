from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rooms.forms import local_to_utc
from rooms.models import Room, RoomMember, RoomRsvp
from rooms.services.lifecycle import room_create, room_end
from tests.factories import ClubFactory, FollowFactory, MembershipFactory, UserFactory, follower_of
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role


def _later(**delta) -> datetime:
    return timezone.now() + timedelta(**(delta or {"days": 1}))


def _scheduled(host, **kwargs) -> Room:
    return room_create(host=host, title="Book club", scheduled_for=_later(), **kwargs)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


# The room page by status


def test_a_live_room_renders_the_live_page(signed_in, live_room):
    response = signed_in.get(f"/rooms/{live_room.pk}/")
    assert response.status_code == 200
    assert response.templates[0].name == "rooms/room.html"
    assert response.context["room"].pk == live_room.pk


def test_a_scheduled_room_shows_its_time_hosts_and_reminders(signed_in, host, user, november):
    co_host = follower_of(host, display_name="Co Host")
    room = room_create(
        host=host,
        title="Book club",
        description="Chapter three.",
        scheduled_for=datetime(2026, 12, 1, 18, 30, tzinfo=UTC),
        co_hosts=[co_host],
    )
    RoomRsvp.objects.create(room=room, user=UserFactory())
    response = signed_in.get(f"/rooms/{room.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "rooms/room_scheduled.html" in [t.name for t in response.templates]
    assert '<time datetime="2026-12-01T18:30:00+00:00" data-local="full">' in page
    assert "Chapter three." in page
    assert "Host" in page
    assert "Co Host" in page
    assert "<span data-rsvp-count>1</span> asked to be reminded" in page
    assert f'href="/rooms/{room.pk}/calendar.ics"' in page
    assert 'aria-pressed="false"' in page
    assert "Start now" not in page


def test_hosts_and_co_hosts_see_start_now(client, host):
    co_host = follower_of(host)
    room = _scheduled(host, co_hosts=[co_host])
    for person in (host, co_host):
        client.force_login(person)
        assert b"Start now" in client.get(f"/rooms/{room.pk}/").content


def test_an_ended_room_says_so_and_leads_back(signed_in, live_room, host):
    room_end(actor=host, room_id=live_room.pk)
    response = signed_in.get(f"/rooms/{live_room.pk}/")
    assert response.status_code == 200
    assert "rooms/room_ended.html" in [t.name for t in response.templates]
    assert b"This room ended" in response.content
    assert b"Hosted by <strong>Host</strong>" in response.content
    assert b'href="/"' in response.content


def test_rooms_closed_to_the_viewer_are_not_found(signed_in, host):
    room = room_create(host=host, title="Secret", visibility=Room.Visibility.CLOSED)
    response = signed_in.get(f"/rooms/{room.pk}/")
    assert response.status_code == 404
    assert b"Secret" not in response.content


# Start now


def test_the_host_starts_a_scheduled_room_from_its_page(client, host):
    room = _scheduled(host)
    client.force_login(host)
    response = client.post(f"/rooms/{room.pk}/start/")
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.pk}/"
    room.refresh_from_db()
    assert room.status == Room.Status.LIVE


def test_others_may_not_start_a_room(signed_in, host):
    room = _scheduled(host)
    response = signed_in.post(f"/rooms/{room.pk}/start/")
    assert response.status_code == 403
    assert b"Only the host and co-hosts can start this room." in response.content
    room.refresh_from_db()
    assert room.status == Room.Status.SCHEDULED


def test_starting_a_room_needs_the_csrf_token(host):
    room = _scheduled(host)
    client = Client(enforce_csrf_checks=True)
    client.force_login(host)
    assert client.post(f"/rooms/{room.pk}/start/").status_code == 403
    room.refresh_from_db()
    assert room.status == Room.Status.SCHEDULED
    page = client.get(f"/rooms/{room.pk}/")
    token = page.cookies["csrftoken"].value
    response = client.post(f"/rooms/{room.pk}/start/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.status == Room.Status.LIVE


def test_starting_a_live_room_again_explains(client, host, live_room):
    client.force_login(host)
    response = client.post(f"/rooms/{live_room.pk}/start/", follow=True)
    assert b"This room is live already." in response.content


def test_start_is_post_only(client, host):
    room = _scheduled(host)
    client.force_login(host)
    assert client.get(f"/rooms/{room.pk}/start/").status_code == 405


# Remind me


def test_remind_me_toggles_through_the_api_with_the_pages_csrf_token(host, user):
    room = _scheduled(host)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(f"/rooms/{room.pk}/")
    token = page.cookies["csrftoken"].value
    api = f"/api/rooms/{room.pk}/rsvp/"
    assert f'data-remind="{api}"'.encode() in page.content
    # As the page's script sends it: no body, so no content type.
    assert client.generic("POST", api, HTTP_X_CSRFTOKEN=token).json() == {"rsvp": True}
    assert RoomRsvp.objects.filter(room=room, user=user).exists()
    assert b'aria-pressed="true"' in client.get(f"/rooms/{room.pk}/").content
    assert client.delete(api, HTTP_X_CSRFTOKEN=token).json() == {"rsvp": False}
    assert not RoomRsvp.objects.filter(room=room, user=user).exists()


def test_remind_me_works_as_a_plain_form(signed_in, host, user):
    room = _scheduled(host)
    response = signed_in.post(f"/rooms/{room.pk}/remind/", {"remind": "on", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert RoomRsvp.objects.filter(room=room, user=user).exists()
    signed_in.post(f"/rooms/{room.pk}/remind/", {"remind": "off"})
    assert not RoomRsvp.objects.filter(room=room, user=user).exists()


def test_remind_me_refuses_a_live_room(signed_in, live_room, user):
    response = signed_in.post(f"/rooms/{live_room.pk}/remind/", {"remind": "on"}, follow=True)
    assert b"Reminders are for rooms that have not started yet." in response.content
    assert not RoomRsvp.objects.exists()


# Time zones


def test_a_berlin_evening_in_winter_is_an_hour_earlier_in_utc():
    moment = local_to_utc(datetime(2026, 12, 1, 18, 0), "Europe/Berlin")  # noqa: DTZ001
    assert moment == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(ValueError, match="clocks skip"):
        local_to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Berlin")  # noqa: DTZ001


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="Unknown time zone"):
        local_to_utc(datetime(2026, 3, 29, 2, 30), "Mars/Olympus")  # noqa: DTZ001


# Start a room


def _room_form(**fields) -> dict:
    data = {
        "title": "Friday chat",
        "description": "",
        "club": "",
        "visibility": "open",
        "start": "now",
        "scheduled_for": "",
        "time_zone": "Europe/Berlin",
        "co_hosts": "",
    }
    data.update(fields)
    return data


def test_the_room_form_needs_sign_in(client):
    response = client.get("/rooms/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_header_offers_to_start_a_room(signed_in):
    assert b'href="/rooms/new/"' in signed_in.get("/clubs/").content


def test_the_room_form_shows_the_clubs_you_lead_and_the_visibility_rules(signed_in, user):
    led = ClubFactory(name="Led club")
    MembershipFactory(club=led, user=user, role="leader")
    MembershipFactory(club=ClubFactory(name="Just a member"), user=user)
    page = signed_in.get("/rooms/new/").content.decode()
    assert "Led club" in page
    assert "Just a member" not in page
    assert "Social — people the moderators follow" in page
    assert 'type="datetime-local"' in page
    assert 'data-time-zone=""' in page


def test_start_now_opens_a_live_room_and_goes_there(signed_in, user):
    co_host = follower_of(user, username="maya")
    response = signed_in.post("/rooms/new/", _room_form(co_hosts=" @Maya, "))
    room = Room.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.pk}/"
    assert room.status == Room.Status.LIVE
    assert room.host == user
    assert list(room.co_hosts.all()) == [co_host]


def test_scheduling_reads_the_time_in_the_senders_zone(signed_in, user, november):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, role="admin")
    response = signed_in.post(
        "/rooms/new/",
        _room_form(
            start="later",
            scheduled_for="2026-12-01T18:00",
            club=club.slug,
            visibility="closed",
        ),
    )
    room = Room.objects.get()
    assert response["Location"] == f"/rooms/{room.pk}/"
    assert room.status == Room.Status.SCHEDULED
    assert room.scheduled_for == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert room.club == club
    assert room.visibility == Room.Visibility.CLOSED


def test_without_a_time_zone_the_time_is_utc(signed_in, november):
    signed_in.post(
        "/rooms/new/", _room_form(start="later", scheduled_for="2026-12-01T18:00", time_zone="")
    )
    assert Room.objects.get().scheduled_for == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  "}, "This field is required."),
        ({"club": "not-yours"}, "only for clubs where you are an admin or a leader"),
        ({"visibility": "secret"}, "Select a valid choice."),
        ({"start": "later"}, "Pick a date and time for the room."),
        (
            {"start": "later", "scheduled_for": "2020-01-01T10:00"},
            "Pick a start time in the future.",
        ),
        (
            {"start": "later", "scheduled_for": "2026-12-01T18:00", "time_zone": "Mars/Olympus"},
            "Unknown time zone",
        ),
        ({"start": "later", "scheduled_for": "tomorrow"}, "Enter a valid date/time."),
        ({"co_hosts": "nobody, maya"}, "There is no one called @nobody here."),
    ],
)
def test_the_room_form_explains_and_creates_nothing(signed_in, november, fields, message):
    UserFactory(username="maya")
    ClubFactory(slug="not-yours")
    response = signed_in.post("/rooms/new/", _room_form(**fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Room.objects.exists()


def test_a_club_you_stopped_leading_is_refused(signed_in, user):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, role="member")
    response = signed_in.post("/rooms/new/", _room_form(club=club.slug))
    assert response.status_code == 400
    assert not Room.objects.exists()


# The hallway


def _live_room_with_stage(host, *, listeners=2, **kwargs) -> Room:
    room = room_create(host=host, title=f"Live with {host.username}", **kwargs)
    member(room, host, Role.MODERATOR)
    member(room, UserFactory(), Role.SPEAKER)
    for _ in range(listeners):
        member(room, UserFactory())
    return room


def test_the_hallway_shows_live_rooms_then_upcoming_ones(signed_in, user):
    club = ClubFactory(name="Jazz Lovers")
    host = UserFactory(display_name="Maya Host")
    MembershipFactory(club=club, user=host, role="leader")
    live = _live_room_with_stage(host, club=club, listeners=3)
    friend = UserFactory(display_name="Friend Listener")
    FollowFactory(follower=user, followee=friend)
    member(live, friend)
    upcoming = room_create(host=UserFactory(), title="Tomorrow's talk", scheduled_for=_later())
    page = signed_in.get("/").content.decode()
    assert page.index("Live now") < page.index("Upcoming")
    assert f'<a href="/rooms/{live.pk}/">Live with' in page
    assert "Jazz Lovers" in page
    assert "Maya Host" in page
    assert "4 listening" in page
    assert "with <a href" in page
    assert "Friend Listener" in page
    assert f'<a href="/rooms/{upcoming.pk}/">Tomorrow&#x27;s talk</a>' in page
    assert 'data-local="short"' in page
    assert f'data-remind="/api/rooms/{upcoming.pk}/rsvp/"' in page
    assert 'data-hallway-rooms="/hallway/rooms/"' in page


def test_the_hallway_marks_rooms_that_record(signed_in):
    recorded = _live_room_with_stage(UserFactory(), listeners=0)
    plain = _live_room_with_stage(UserFactory(), listeners=0)
    later = room_create(host=UserFactory(), title="Recorded later", scheduled_for=_later())
    Room.objects.filter(pk=recorded.pk).update(recording=True, media=Room.Media.SFU)
    Room.objects.filter(pk=later.pk).update(recording=True)
    page = signed_in.get("/").content.decode()

    def card(room):
        start = page.rindex("<li", 0, page.index(f'data-room="{room.pk}"'))
        return page[start : page.index("</li>", start)]

    assert 'aria-label="This room is being recorded"' in card(recorded)
    assert "REC" not in card(plain)
    assert 'aria-label="This room will be recorded"' in card(later)


def test_a_quiet_hallway_says_so_and_keeps_suggestions(signed_in):
    UserFactory(display_name="Someone To Follow")
    page = signed_in.get("/").content.decode()
    assert "It is quiet right now." in page
    assert "Someone To Follow" in page


def test_the_hallway_fragment_follows_rooms_starting_and_ending(signed_in, host):
    assert b"It is quiet right now." in signed_in.get("/hallway/rooms/").content
    room = _live_room_with_stage(host)
    fragment = signed_in.get("/hallway/rooms/")
    assert fragment.status_code == 200
    assert f'href="/rooms/{room.pk}/"'.encode() in fragment.content
    assert b"<html" not in fragment.content
    room_end(actor=host, room_id=room.pk)
    assert f'href="/rooms/{room.pk}/"'.encode() not in signed_in.get("/hallway/rooms/").content


def test_the_hallway_fragment_needs_sign_in(client):
    assert client.get("/hallway/rooms/").status_code == 302


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def _add_followed_host_with_rooms(viewer):
    """Someone the viewer follows, with a live room (stage and audience) and a later one."""
    host = UserFactory()
    FollowFactory(follower=viewer, followee=host)
    member(_live_room_with_stage(host), UserFactory(), Role.SPEAKER)
    room_create(host=host, title="Later", scheduled_for=_later())


@pytest.mark.parametrize("url", ["/", "/hallway/rooms/"])
def test_the_hallway_query_count_does_not_grow_with_rooms(signed_in, user, url):
    for _ in range(2):
        _add_followed_host_with_rooms(user)
    _queries(signed_in, url)  # fills what is cached for everyone (the most followed people)
    few = _queries(signed_in, url)
    for _ in range(8):
        _add_followed_host_with_rooms(user)
    assert _queries(signed_in, url) == few

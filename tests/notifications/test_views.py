"""The pages: inbox, opening and marking read, settings, the header bell, calendars."""

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from follows.models import ClubFollow
from follows.services import club_invite_create, club_invite_decline, club_join, follow_create
from notifications.models import ClubMute, Notification, PersonMute, Preferences
from rooms.models import Room, RoomRsvp
from rooms.services.lifecycle import room_create
from tests.factories import ClubFactory, FollowFactory, MembershipFactory, UserFactory
from tests.support.helpers import count_queries

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _followed_by(user, n=1):
    return [follow_create(follower=UserFactory(), followee=user)[0].follower for _ in range(n)]


def _other_kinds(user):
    club = ClubFactory()
    room = room_create(host=UserFactory(), title="Room")
    Notification.objects.create(
        recipient=user, kind=Kind.CLUB_INVITE, subject="club:1", actor=UserFactory(), club=club
    )
    Notification.objects.create(
        recipient=user, kind=Kind.ROOM_STARTED, subject="room:1", actor=room.host, room=room
    )


def test_the_inbox_lists_and_links_every_kind(signed_in, user):
    fan = _followed_by(user)[0]
    _other_kinds(user)
    response = signed_in.get("/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{fan.name} followed you" in html
    assert "started “Room”" in html
    assert "invited you to join" in html
    for notification in Notification.objects.filter(recipient=user):
        assert f"/notifications/{notification.pk}/open/" in html


def test_a_club_invitation_offers_its_answers_only_while_it_waits_for_one(signed_in, user):
    joined, declined, waiting = (ClubFactory(name=name) for name in ("Jazz", "Poetry", "Chess"))
    for club in (joined, declined, waiting):
        owner = UserFactory()
        MembershipFactory(club=club, user=owner, role="admin")
        club_invite_create(actor=owner, club=club, user=user)
    club_join(user=user, club=joined)
    club_invite_decline(user=user, club=declined)
    html = signed_in.get("/notifications/").content.decode()

    def row(club):
        start = html.index(f"invited you to join {club.name}")
        return html[start : html.index("</li>", start)]

    assert "Accept the invitation to Chess" in row(waiting)
    assert "You joined" in row(joined)
    assert "Accept" not in row(joined)
    assert "No longer open" in row(declined)
    assert "Accept" not in row(declined)


def test_old_notifications_say_what_became_of_their_room(signed_in, user):
    host = UserFactory(display_name="Hana")
    rooms = {
        state: room_create(host=host, title=f"Room {state}", scheduled_for=_soon())
        for state in ("waiting", "live", "ended", "cancelled")
    }
    Room.objects.filter(pk=rooms["live"].pk).update(
        status=Room.Status.LIVE, started_at=timezone.now()
    )
    Room.objects.filter(pk=rooms["ended"].pk).update(
        status=Room.Status.ENDED, started_at=timezone.now(), ended_at=timezone.now()
    )
    Room.objects.filter(pk=rooms["cancelled"].pk).update(
        status=Room.Status.ENDED, ended_at=timezone.now()
    )
    for state, room in rooms.items():
        Notification.objects.create(
            recipient=user, kind=Kind.ROOM_SCHEDULED, subject=f"room:{state}", actor=host, room=room
        )
    html = signed_in.get("/notifications/").content.decode()

    def row(state):
        start = html.index(f"Room {state}")
        return html[start : html.index("</li>", start)]

    assert " · starts <time" in row("waiting")
    assert "live now" in row("live")
    assert "ended</span>" in row("ended")
    assert "cancelled</span>" in row("cancelled")
    for state in ("live", "ended", "cancelled"):
        assert "starts" not in row(state)


def _soon():
    return timezone.now() + timedelta(days=2)


def test_the_inbox_writes_a_rooms_start_for_the_readers_own_zone(signed_in, user, settings):
    """The page writes UTC in a <time data-local> that the site's script shows in the
    reader's zone and clock, as everywhere else; never the server's zone."""
    settings.TIME_ZONE = "America/New_York"
    when = (timezone.now() + timedelta(days=2)).replace(hour=18, minute=30, second=0, microsecond=0)
    room = room_create(host=UserFactory(), title="Book club", scheduled_for=when)
    Notification.objects.create(
        recipient=user, kind=Kind.ROOM_REMINDER, subject="room:1", room=room
    )
    html = signed_in.get("/notifications/").content.decode()
    utc = when.astimezone(UTC)
    assert (
        f' · starts <time datetime="{utc.isoformat()}" data-local="short">'
        f"{utc:%a} {utc.day} {utc:%b %Y, %H:%M} UTC</time>"
    ) in html


def test_the_inbox_takes_the_same_queries_for_a_full_page(signed_in, user):
    _followed_by(user, 2)
    small = count_queries(lambda: signed_in.get("/notifications/"))
    _followed_by(user, 25)
    _other_kinds(user)
    assert count_queries(lambda: signed_in.get("/notifications/")) == small


def test_the_inbox_is_paged(signed_in, user):
    _followed_by(user, 35)
    first = signed_in.get("/notifications/").content.decode()
    assert "Page 1 of 2" in first
    second = signed_in.get("/notifications/?page=2").content.decode()
    assert second.count('<li class="inbox__item') == 5


def test_the_inbox_needs_signing_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_opening_a_notification_marks_it_read_and_goes_there(signed_in, user):
    fan = _followed_by(user)[0]
    notification = Notification.objects.get()
    response = signed_in.get(f"/notifications/{notification.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == fan.get_absolute_url()
    notification.refresh_from_db()
    assert notification.read


def test_opening_someone_elses_notification_is_not_found(signed_in):
    _followed_by(UserFactory())
    notification = Notification.objects.get()
    assert signed_in.get(f"/notifications/{notification.pk}/open/").status_code == 404
    notification.refresh_from_db()
    assert not notification.read


def test_mark_one_and_all_read_from_the_page(signed_in, user):
    _followed_by(user, 3)
    first = Notification.objects.order_by("pk").first()
    response = signed_in.post("/notifications/read/", {"ids": first.pk})
    assert response.status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    signed_in.post("/notifications/read/", {"all": "1"})
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_marking_a_foreign_or_broken_id_from_the_page_changes_nothing(signed_in, user):
    _followed_by(user, 1)
    _followed_by(UserFactory(), 1)
    theirs = Notification.objects.exclude(recipient=user).get()
    for bad in (theirs.pk, "abc"):
        response = signed_in.post("/notifications/read/", {"ids": bad}, follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_the_header_bell_shows_the_unread_count(signed_in, user):
    _followed_by(user, 3)
    html = signed_in.get("/clubs/").content.decode()
    assert 'data-notifications="/ws/notifications/"' in html
    assert "js/notifications.js" in html
    assert ">3<span" in html


def test_signed_out_pages_have_no_bell(client):
    assert "data-notifications" not in client.get("/clubs/").content.decode()


def test_settings_page_saves_kinds_and_email(signed_in, user):
    assert signed_in.get("/notifications/settings/").status_code == 200
    fields = {kind: "on" for kind in Kind.values if kind != "room_scheduled"}
    response = signed_in.post(
        "/notifications/settings/", {"action": "save", **fields, "email_reminders": "on"}
    )
    assert response.status_code == 302
    preferences = Preferences.objects.get(user=user)
    assert preferences.room_scheduled is False
    assert preferences.room_started is True
    assert preferences.email_reminders is True


def test_settings_page_refuses_email_without_an_address(signed_in, user):
    user.email = ""
    user.save()
    response = signed_in.post(
        "/notifications/settings/", {"action": "save", "email_reminders": "on"}
    )
    assert response.status_code == 400
    assert "email address" in response.content.decode()
    assert not Preferences.objects.filter(user=user, email_reminders=True).exists()


def test_settings_page_mutes_and_unmutes(signed_in, user):
    maya = UserFactory(username="maya")
    club = MembershipFactory(user=user).club
    signed_in.post("/notifications/settings/", {"action": "mute_person", "value": "maya"})
    signed_in.post("/notifications/settings/", {"action": "mute_club", "value": club.slug})
    assert PersonMute.objects.filter(user=user, muted=maya).exists()
    assert ClubMute.objects.filter(user=user, club=club).exists()
    html = signed_in.get("/notifications/settings/").content.decode()
    assert "@maya" in html
    signed_in.post("/notifications/settings/", {"action": "unmute_person", "value": "maya"})
    signed_in.post("/notifications/settings/", {"action": "unmute_club", "value": club.slug})
    assert not PersonMute.objects.exists()
    assert not ClubMute.objects.exists()


def test_the_clubs_offered_to_mute_are_those_that_tell_you_and_you_do_not_run(signed_in, user):
    member_of, followed, run, muted, stranger = (
        ClubFactory(name=name) for name in ("Jazz", "Chess", "Mine", "Quiet", "Elsewhere")
    )
    MembershipFactory(club=member_of, user=user, role="member")
    ClubFollow.objects.create(club=followed, user=user)
    MembershipFactory(club=run, user=user, role="admin")
    MembershipFactory(club=muted, user=user, role="member")
    ClubMute.objects.create(user=user, club=muted)
    html = signed_in.get("/notifications/settings/").content.decode()
    select = html[html.index('<select id="mute-club"') :]
    offered = re.findall(
        r'<option value="[^"]+">([^<]+)</option>', select[: select.index("</select>")]
    )
    assert offered == ["Chess", "Jazz"]
    assert stranger.name not in offered


def test_settings_page_reports_unknown_people_and_actions(signed_in):
    response = signed_in.post(
        "/notifications/settings/", {"action": "mute_person", "value": "ghost"}, follow=True
    )
    assert "There is no one called @ghost" in response.content.decode()
    response = signed_in.post("/notifications/settings/", {"action": "explode"}, follow=True)
    assert "not one this page knows" in response.content.decode()
    assert not PersonMute.objects.exists()


# --- Calendars -----------------------------------------------------------------------------


def _scheduled(host, **fields):
    return room_create(
        host=host, title="Jazz at night", scheduled_for=timezone.now() + timedelta(days=1), **fields
    )


def test_a_scheduled_room_downloads_as_ics(signed_in):
    room = _scheduled(UserFactory(display_name="Maya"), description="Bring records.")
    response = signed_in.get(f"/rooms/{room.pk}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Jazz at night"
    assert event.decoded("DTSTART") == room.scheduled_for.replace(microsecond=0)
    assert f"http://testserver/rooms/{room.pk}/" in str(event["DESCRIPTION"])
    assert "Hosted by Maya" in str(event["DESCRIPTION"])
    assert str(event["UID"]) == f"room-{room.pk}@roundtable"


def test_a_live_room_has_no_calendar_file(signed_in):
    room = room_create(host=UserFactory(), title="Now")
    response = signed_in.get(f"/rooms/{room.pk}/calendar.ics")
    assert response.status_code == 404
    assert "is live now" in response.content.decode()


def test_a_closed_room_calendar_is_not_shown_to_outsiders(signed_in):
    room = _scheduled(UserFactory(), visibility=Room.Visibility.CLOSED)
    assert signed_in.get(f"/rooms/{room.pk}/calendar.ics").status_code == 404


def test_the_private_feed_lists_upcoming_rooms_of_people_and_clubs_followed(client, user):
    followed, stranger, muted = UserFactory(), UserFactory(), UserFactory()
    FollowFactory(follower=user, followee=followed)
    FollowFactory(follower=user, followee=muted)
    PersonMute.objects.create(user=user, muted=muted)
    club = MembershipFactory(user=user).club
    club_host = MembershipFactory(club=club, role="leader").user
    from_followed = _scheduled(followed)
    from_club = _scheduled(club_host, club=club)
    asked = _scheduled(stranger)
    RoomRsvp.objects.create(room=asked, user=user)
    _scheduled(stranger)  # neither followed nor asked for
    _scheduled(muted)  # muted
    room_create(host=followed, title="Already live")
    token = Preferences.objects.create(user=user, calendar_token="t0ken-abc").calendar_token
    response = client.get(f"/notifications/calendar/{token}.ics")
    assert response.status_code == 200
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {
        f"room-{r.pk}@roundtable" for r in (from_followed, from_club, asked)
    }


def test_a_stale_calendar_token_is_a_clear_404(client, user):
    Preferences.objects.create(user=user, calendar_token="current-token")
    response = client.get("/notifications/calendar/old-token.ics")
    assert response.status_code == 404
    assert "turned off or replaced" in response.content.decode()


@pytest.mark.parametrize(
    "lock",
    [
        {"banned_at": timezone.now()},
        {"suspended_until": timezone.now() + timedelta(days=1)},
    ],
)
def test_the_private_feed_stops_while_the_account_is_locked(client, user, lock):
    Preferences.objects.create(user=user, calendar_token="t0ken-abc")
    for field, value in lock.items():
        setattr(user, field, value)
    user.save()
    response = client.get("/notifications/calendar/t0ken-abc.ics")
    assert response.status_code == 403
    assert response.content.decode().startswith("Your account is")
    assert "BEGIN:VCALENDAR" not in response.content.decode()


def test_the_private_feed_works_again_after_a_suspension_ends(client, user):
    Preferences.objects.create(user=user, calendar_token="t0ken-abc")
    user.suspended_until = timezone.now() - timedelta(minutes=1)
    user.save()
    assert client.get("/notifications/calendar/t0ken-abc.ics").status_code == 200

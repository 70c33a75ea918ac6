"""The notification API, and the invitations that notify people who are not there yet."""

import pytest
from django.utils import timezone

from follows.models import Club, ClubInvite, ClubMembership
from follows.services import club_create, club_join, follow_create
from notifications.models import ClubMute, Notification, PersonMute, Preferences
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import BlockFactory, ClubFactory, UserFactory, follower_of
from tests.rooms.factories import member
from tests.support.helpers import count_queries, error_of

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def _followed_by(user, n=1):
    return [follow_create(follower=UserFactory(), followee=user)[0].follower for _ in range(n)]


def _state():
    return list(Notification.objects.order_by("pk").values_list("pk", "recipient_id", "read_at"))


def test_the_list_is_newest_first_and_shaped_for_clients(authed_client, user):
    first, second = _followed_by(user, 2)
    results = authed_client.get("/api/notifications/").json()["results"]
    assert [n["actor"]["username"] for n in results] == [second.username, first.username]
    item = results[0]
    assert item["kind"] == "new_follower"
    assert item["text"] == f"{second.name} followed you"
    assert item["url"] == second.get_absolute_url()
    assert item["read"] is False
    assert item["room"] is None
    assert item["club"] is None


def test_the_list_shows_only_your_own(authed_client, user):
    _followed_by(UserFactory())
    assert authed_client.get("/api/notifications/").json()["count"] == 0


def test_the_list_takes_the_same_queries_for_many_notifications(authed_client, user):
    _followed_by(user, 2)
    small = count_queries(lambda: authed_client.get("/api/notifications/"))
    _followed_by(user, 10)
    club = ClubFactory()
    Notification.objects.create(
        recipient=user,
        kind=Kind.CLUB_INVITE,
        subject=f"club:{club.pk}",
        actor=UserFactory(),
        club=club,
    )
    room = room_create(host=UserFactory(), title="Room")
    Notification.objects.create(
        recipient=user,
        kind=Kind.ROOM_STARTED,
        subject=f"room:{room.pk}",
        actor=room.host,
        room=room,
    )
    assert count_queries(lambda: authed_client.get("/api/notifications/")) == small


def test_unread_only(authed_client, user):
    first, _ = _followed_by(user, 2)
    Notification.objects.filter(actor=first).update(read_at=timezone.now())
    body = authed_client.get("/api/notifications/?unread=true").json()
    assert body["count"] == 1


def test_mark_some_read(authed_client, user):
    _followed_by(user, 3)
    ids = list(Notification.objects.values_list("pk", flat=True))
    response = authed_client.post("/api/notifications/read/", {"ids": ids[:2]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread_count": 1}
    again = authed_client.post("/api/notifications/read/", {"ids": ids[:2]}, format="json")
    assert again.json() == {"marked": 0, "unread_count": 1}


def test_mark_all_read(authed_client, user):
    _followed_by(user, 3)
    _followed_by(UserFactory(), 1)
    response = authed_client.post("/api/notifications/read/", {"all": True}, format="json")
    assert response.json() == {"marked": 3, "unread_count": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == 1  # someone else's


def test_marking_someone_elses_notification_changes_nothing(authed_client, user):
    _followed_by(user, 1)
    _followed_by(UserFactory(), 1)
    mine, theirs = Notification.objects.order_by("pk").values_list("pk", flat=True)
    before = _state()
    response = authed_client.post(
        "/api/notifications/read/", {"ids": [mine, theirs]}, format="json"
    )
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found"
    assert str(theirs) in error["message"]
    assert _state() == before


def test_marking_unknown_ids_changes_nothing(authed_client, user):
    _followed_by(user, 1)
    before = _state()
    response = authed_client.post("/api/notifications/read/", {"ids": [987654]}, format="json")
    assert response.status_code == 404
    assert "987654" in error_of(response)["message"]
    assert _state() == before


def test_a_read_request_naming_none_marks_none_and_all_takes_every_one(authed_client, user):
    """What the schema says: both fields are optional; {} was a 400 it did not list."""
    _followed_by(user, 2)
    for body in ({}, {"ids": []}):
        response = authed_client.post("/api/notifications/read/", body, format="json")
        assert response.json() == {"marked": 0, "unread_count": 2}
    both = authed_client.post(
        "/api/notifications/read/", {"ids": [987654], "all": True}, format="json"
    )
    assert both.json() == {"marked": 2, "unread_count": 0}


@pytest.mark.parametrize(
    "body",
    [{"ids": ["x"]}, {"all": "maybe"}, {"ids": 5}],
    ids=["not-ints", "bad-all", "not-a-list"],
)
def test_bad_read_requests_are_refused(authed_client, user, body):
    _followed_by(user, 1)
    before = _state()
    response = authed_client.post("/api/notifications/read/", body, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert _state() == before


def test_signed_out_people_get_401(api_client):
    assert api_client.get("/api/notifications/").status_code == 401
    assert api_client.post("/api/notifications/read/", {"all": True}).status_code == 401


# --- Preferences ---------------------------------------------------------------------------


def test_preferences_default_to_everything_on_and_no_email(authed_client):
    body = authed_client.get("/api/notifications/preferences/").json()
    assert body["kinds"] == dict.fromkeys(Kind.values, True)
    assert body["email_reminders"] is False
    assert body["muted_people"] == []
    assert body["muted_clubs"] == []
    assert body["calendar_url"] is None


def test_preferences_are_changed_with_patch(authed_client, user):
    maya, club = UserFactory(username="maya"), ClubFactory(slug="owls")
    response = authed_client.patch(
        "/api/notifications/preferences/",
        {
            "kinds": {"room_scheduled": False},
            "email_reminders": True,
            "muted_people": ["maya"],
            "muted_clubs": ["owls"],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["kinds"]["room_scheduled"] is False
    assert body["kinds"]["room_started"] is True
    assert body["email_reminders"] is True
    assert [p["username"] for p in body["muted_people"]] == ["maya"]
    assert [c["slug"] for c in body["muted_clubs"]] == ["owls"]
    assert PersonMute.objects.filter(user=user, muted=maya).exists()
    assert ClubMute.objects.filter(user=user, club=club).exists()
    cleared = authed_client.patch(
        "/api/notifications/preferences/", {"muted_people": []}, format="json"
    ).json()
    assert cleared["muted_people"] == []
    assert [c["slug"] for c in cleared["muted_clubs"]] == ["owls"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kinds": {"room_exploded": False}}, "invalid"),
        ({"kinds": {"room_started": "sometimes"}}, "invalid"),
        ({"muted_people": ["nobody_here"]}, "not_found"),
        ({"muted_clubs": ["no-such-club"]}, "not_found"),
        ({"muted_people": ["me_myself"]}, "self_mute"),
    ],
    ids=["unknown-kind", "not-bool", "unknown-person", "unknown-club", "self"],
)
def test_bad_preferences_change_nothing(authed_client, user, body, code):
    user.username = "me_myself"
    user.save()
    response = authed_client.patch(
        "/api/notifications/preferences/", {**body, "email_reminders": True}, format="json"
    )
    assert response.status_code in (400, 404, 422)
    assert error_of(response)["code"] == code
    assert not Preferences.objects.filter(user=user).exists()
    assert not PersonMute.objects.exists()


def test_email_reminders_need_an_email_address(authed_client, user):
    user.email = ""
    user.save()
    response = authed_client.patch(
        "/api/notifications/preferences/", {"email_reminders": True}, format="json"
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "no_email"


def test_a_kind_turned_off_is_not_written(user):
    Preferences.objects.create(user=user, new_follower=False)
    _followed_by(user, 1)
    assert Notification.objects.count() == 0


def test_the_calendar_address_can_be_made_replaced_and_revoked(authed_client, client):
    first = authed_client.post("/api/notifications/calendar-token/").json()["calendar_url"]
    assert first.startswith("http://testserver/notifications/calendar/")
    assert client.get(first).status_code == 200
    second = authed_client.post("/api/notifications/calendar-token/").json()["calendar_url"]
    assert second != first
    assert client.get(first).status_code == 404
    assert authed_client.get("/api/notifications/preferences/").json()["calendar_url"] == second
    assert authed_client.delete("/api/notifications/calendar-token/").json() == {
        "calendar_url": None
    }
    assert client.get(second).status_code == 404


# --- Invitations ---------------------------------------------------------------------------


@pytest.fixture
def live(user):
    """A live room that `user` hosts."""
    return room_create(host=user, title="Live talk")


def test_inviting_someone_who_is_not_in_the_room_notifies_them(authed_client, user, live):
    guest = follower_of(user)
    response = authed_client.post(
        f"/api/rooms/{live.pk}/invite/", {"username": guest.username}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"status": "notified"}
    notification = Notification.objects.get(recipient=guest)
    assert (notification.kind, notification.room, notification.actor) == (
        Kind.SPEAKER_INVITE,
        live,
        user,
    )
    again = authed_client.post(
        f"/api/rooms/{live.pk}/invite/", {"username": guest.username}, format="json"
    )
    assert again.json() == {"status": "notified"}
    assert Notification.objects.filter(recipient=guest).count() == 1


def test_inviting_someone_in_the_room_invites_them_on_stage(authed_client, user, live):
    guest = UserFactory()
    member(live, user, RoomMember.Role.MODERATOR)
    member(live, guest, channel="test!guest")
    response = authed_client.post(
        f"/api/rooms/{live.pk}/invite/", {"username": guest.username}, format="json"
    )
    assert response.json() == {"status": "invited"}
    assert RoomMember.objects.get(room=live, user=guest).invited_to_speak_at is not None
    assert not Notification.objects.filter(recipient=guest).exists()


def test_an_invitation_to_a_closed_room_lets_them_in(authed_client, user):
    room = room_create(host=user, title="Closed", visibility=Room.Visibility.CLOSED)
    guest = follower_of(user)
    authed_client.post(f"/api/rooms/{room.pk}/invite/", {"username": guest.username}, format="json")
    assert room.invitees.filter(pk=guest.pk).exists()


def test_only_moderators_invite_to_speak(api_client, live):
    stranger, guest = UserFactory(), UserFactory()
    api_client.force_authenticate(stranger)
    response = api_client.post(
        f"/api/rooms/{live.pk}/invite/", {"username": guest.username}, format="json"
    )
    assert response.status_code == 403
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("blocker", "code"), [("host", 403), ("guest", 403)], ids=["host-blocked", "guest-blocked"]
)
def test_no_invitation_across_a_block(authed_client, user, live, blocker, code):
    guest = UserFactory()
    if blocker == "host":
        BlockFactory(blocker=user, blocked=guest)
    else:
        BlockFactory(blocker=guest, blocked=user)
    response = authed_client.post(
        f"/api/rooms/{live.pk}/invite/", {"username": guest.username}, format="json"
    )
    assert response.status_code == code
    assert not Notification.objects.exists()


def _invite(client, room, person):
    return client.post(
        f"/api/rooms/{room.pk}/invite/", {"username": person.username}, format="json"
    )


def test_only_people_who_follow_the_inviter_are_invited_from_elsewhere(authed_client, user, live):
    """A fresh account invited 300 strangers in a minute, each a notification and a push."""
    stranger = UserFactory()
    response = _invite(authed_client, live, stranger)
    assert response.status_code == 403
    assert error_of(response)["code"] == "not_related"
    assert "you can invite only people who follow you" in error_of(response)["message"]
    # Following someone is no relation the other way.
    follow_create(follower=user, followee=stranger)
    assert _invite(authed_client, live, stranger).status_code == 403
    assert not Notification.objects.filter(kind=Kind.SPEAKER_INVITE).exists()


def test_members_of_the_room_s_club_are_invited_from_elsewhere(authed_client, user):
    club = club_create(creator=user, name="Owls")
    room = room_create(host=user, title="Club talk", club=club)
    member_of_club, outsider = UserFactory(), UserFactory()
    club_join(user=member_of_club, club=club)
    assert _invite(authed_client, room, member_of_club).json() == {"status": "notified"}
    assert _invite(authed_client, room, outsider).status_code == 403
    assert list(
        Notification.objects.filter(kind=Kind.SPEAKER_INVITE).values_list("recipient", flat=True)
    ) == [member_of_club.pk]


def test_invitations_have_a_budget_per_person_and_hour(authed_client, user, live, settings):
    settings.ROOM_INVITES_PER_HOUR = 2
    guests = [follower_of(user) for _ in range(3)]
    assert [_invite(authed_client, live, guest).status_code for guest in guests] == [200, 200, 429]
    assert error_of(_invite(authed_client, live, guests[2]))["code"] == "rate_limited"
    assert Notification.objects.filter(kind=Kind.SPEAKER_INVITE).count() == 2
    # Invitees named on a new room count against the same budget.
    response = authed_client.post(
        "/api/rooms/",
        {"title": "Closed", "visibility": "closed", "invitees": [guests[2].username]},
        format="json",
    )
    assert response.status_code == 429


def test_someone_who_muted_the_inviter_gets_no_invitation_and_the_inviter_is_not_told(
    authed_client, user, live
):
    guest = follower_of(user)
    PersonMute.objects.create(user=guest, muted=user)
    assert _invite(authed_client, live, guest).json() == {"status": "notified"}
    assert not Notification.objects.filter(recipient=guest).exists()


def test_a_new_room_s_invitees_must_follow_its_host(authed_client, user):
    fan, stranger = follower_of(user), UserFactory()
    response = authed_client.post(
        "/api/rooms/",
        {"title": "Closed", "visibility": "closed", "invitees": [fan.username, stranger.username]},
        format="json",
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "not_related"
    assert not Room.objects.exists()


def test_inviting_to_a_room_that_is_not_live_is_refused(authed_client, user):
    room = room_create(
        host=user, title="Later", scheduled_for=timezone.now() + timezone.timedelta(hours=1)
    )
    response = authed_client.post(
        f"/api/rooms/{room.pk}/invite/", {"username": UserFactory().username}, format="json"
    )
    assert response.status_code == 404
    assert not Notification.objects.filter(kind=Kind.SPEAKER_INVITE).exists()


@pytest.fixture
def approval_club(user):
    return club_create(creator=user, name="Inner Circle", join_policy=Club.JoinPolicy.APPROVAL)


def test_a_club_invitation_notifies_and_lets_them_skip_approval(authed_client, user, approval_club):
    guest = UserFactory()
    response = authed_client.post(
        f"/api/clubs/{approval_club.slug}/invites/", {"username": guest.username}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == guest.username
    notification = Notification.objects.get(recipient=guest)
    assert (notification.kind, notification.club) == (Kind.CLUB_INVITE, approval_club)
    assert notification.actor == user
    membership = club_join(user=guest, club=approval_club)
    assert membership.status == ClubMembership.Status.ACTIVE
    assert not ClubInvite.objects.exists()


def test_without_an_invitation_approval_is_still_needed(approval_club):
    membership = club_join(user=UserFactory(), club=approval_club)
    assert membership.status == ClubMembership.Status.PENDING


def test_only_club_admins_invite(api_client, approval_club):
    api_client.force_authenticate(UserFactory())
    response = api_client.post(
        f"/api/clubs/{approval_club.slug}/invites/",
        {"username": UserFactory().username},
        format="json",
    )
    assert response.status_code == 403
    assert not ClubInvite.objects.exists()
    assert not Notification.objects.exists()


def test_inviting_a_member_is_a_conflict(authed_client, approval_club):
    guest = UserFactory()
    ClubMembership.objects.create(club=approval_club, user=guest)
    response = authed_client.post(
        f"/api/clubs/{approval_club.slug}/invites/", {"username": guest.username}, format="json"
    )
    assert response.status_code == 409
    assert not Notification.objects.filter(recipient=guest).exists()


def test_inviting_someone_unknown_is_not_found(authed_client, approval_club):
    response = authed_client.post(
        f"/api/clubs/{approval_club.slug}/invites/", {"username": "ghost"}, format="json"
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone

from rooms.models import Room, RoomRsvp
from rooms.services.lifecycle import room_create
from tests.factories import ClubFactory, FollowFactory, MembershipFactory, UserFactory, follower_of
from tests.rooms.factories import member
from tests.support.helpers import count_queries, error_of

pytestmark = pytest.mark.django_db


def _later(hours=2):
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_create_a_live_room(authed_client, user):
    response = authed_client.post("/api/rooms/", {"title": "Now talking"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "live"
    assert body["host"]["username"] == user.username
    assert body["url"] == f"/rooms/{body['id']}/"
    assert body["speakers"] == []
    assert body["listener_count"] == 0


def test_schedule_a_club_room_with_co_hosts(authed_client, user):
    club = ClubFactory(slug="owls")
    MembershipFactory(club=club, user=user, role="admin")
    follower_of(user, username="theo")
    response = authed_client.post(
        "/api/rooms/",
        {
            "title": "Later",
            "club": "owls",
            "visibility": "closed",
            "scheduled_for": _later(),
            "co_hosts": ["theo"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["club"]["slug"], body["visibility"]) == (
        "scheduled",
        "owls",
        "closed",
    )
    room = Room.objects.get(pk=body["id"])
    assert [u.username for u in room.co_hosts.all()] == ["theo"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"title": "t" * 121}, 400, "invalid"),
        ({"title": "x", "visibility": "secret"}, 400, "invalid"),
        ({"title": "x", "scheduled_for": "tomorrow"}, 400, "invalid"),
        ({"title": "x", "scheduled_for": "2001-01-01T00:00:00Z"}, 422, "invalid"),
        ({"title": "x", "club": "no-such-club"}, 404, "not_found"),
        ({"title": "x", "co_hosts": ["ghost"]}, 404, "not_found"),
        ({"title": "x", "co_hosts": "theo"}, 400, "invalid"),
        ({"title": "x", "speaker_cap": 99}, 422, "invalid"),
    ],
)
def test_create_refuses_bad_input(authed_client, payload, status, code):
    response = authed_client.post("/api/rooms/", payload, format="json")
    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert not Room.objects.exists()


def test_only_club_leads_create_club_rooms(authed_client, user):
    club = ClubFactory(slug="owls")
    MembershipFactory(club=club, user=user, role="member")
    response = authed_client.post("/api/rooms/", {"title": "x", "club": "owls"}, format="json")
    assert response.status_code == 403
    assert not Room.objects.exists()


def test_detail_shows_the_stage_and_counts(authed_client, user):
    host = UserFactory(username="maya")
    room = room_create(host=host, title="Jazz")
    member(room, host, "moderator", muted=False)
    member(room, UserFactory())
    FollowFactory(follower=user, followee=host)
    body = authed_client.get(f"/api/rooms/{room.pk}/").json()
    assert [(s["user"]["username"], s["role"], s["muted"]) for s in body["speakers"]] == [
        ("maya", "moderator", False)
    ]
    assert body["listener_count"] == 1
    assert [u["username"] for u in body["followed_inside"]] == ["maya"]


def test_closed_rooms_are_not_found_by_outsiders(authed_client):
    room = room_create(host=UserFactory(), title="Private", visibility="closed")
    response = authed_client.get(f"/api/rooms/{room.pk}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_and_malformed_room_ids(authed_client):
    assert authed_client.get("/api/rooms/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert authed_client.get("/api/rooms/not-a-uuid/").status_code == 404


def test_followed_by_the_speakers(authed_client, user):
    room = room_create(host=user, title="Talk")
    member(room, user, "moderator", channel="c0")
    speaker, fan, stranger, follower_of_fan = UserFactory.create_batch(4)
    member(room, speaker, "speaker", channel="c1")
    for index, person in enumerate((fan, stranger, follower_of_fan), start=2):
        member(room, person, channel=f"c{index}")
    FollowFactory(follower=user, followee=fan)
    FollowFactory(follower=speaker, followee=fan)
    FollowFactory(follower=fan, followee=follower_of_fan)  # a listener's follow does not count
    FollowFactory(follower=user, followee=speaker)  # people on stage are not listed
    response = authed_client.get(f"/api/rooms/{room.pk}/followed-by-speakers/")
    assert response.status_code == 200
    assert response.json() == {"user_ids": [fan.pk]}


def test_followed_by_the_speakers_of_a_hidden_room(authed_client):
    room = room_create(host=UserFactory(), title="Private", visibility="closed")
    response = authed_client.get(f"/api/rooms/{room.pk}/followed-by-speakers/")
    assert response.status_code == 404


def test_start_and_end(authed_client, user, api_client):
    room = room_create(host=user, title="Later", scheduled_for=timezone.now() + timedelta(hours=1))
    stranger = UserFactory()
    api_client.force_authenticate(stranger)
    assert api_client.post(f"/api/rooms/{room.pk}/start/").status_code == 403
    started = authed_client.post(f"/api/rooms/{room.pk}/start/")
    assert started.json()["status"] == "live"
    again = authed_client.post(f"/api/rooms/{room.pk}/start/")
    assert again.status_code == 409
    assert api_client.post(f"/api/rooms/{room.pk}/end/").status_code == 403
    ended = authed_client.post(f"/api/rooms/{room.pk}/end/")
    assert ended.json()["status"] == "ended"
    assert ended.json()["ended_at"]


def test_rsvp(authed_client, user):
    room = room_create(
        host=UserFactory(), title="Later", scheduled_for=timezone.now() + timedelta(hours=1)
    )
    assert authed_client.post(f"/api/rooms/{room.pk}/rsvp/").status_code == 201
    assert authed_client.post(f"/api/rooms/{room.pk}/rsvp/").status_code == 200
    assert authed_client.get(f"/api/rooms/{room.pk}/").json()["you_rsvp"] is True
    assert authed_client.delete(f"/api/rooms/{room.pk}/rsvp/").json() == {"rsvp": False}
    assert not RoomRsvp.objects.exists()


def test_room_list_filters(authed_client):
    maya = UserFactory(username="maya")
    live = room_create(host=maya, title="Live")
    later = room_create(host=maya, title="Later", scheduled_for=timezone.now() + timedelta(hours=1))
    room_create(host=UserFactory(), title="Other")
    body = authed_client.get("/api/rooms/?host=maya").json()
    assert [r["id"] for r in body["results"]] == [str(live.pk), str(later.pk)]
    scheduled = authed_client.get("/api/rooms/?status=scheduled").json()
    assert [r["id"] for r in scheduled["results"]] == [str(later.pk)]
    assert authed_client.get("/api/rooms/?status=paused").status_code == 422


def test_hallway_api_shape_and_constant_queries(authed_client, user):
    def add():
        host = UserFactory()
        FollowFactory(follower=user, followee=host)
        room = room_create(host=host, title="Live")
        member(room, host, "moderator")
        room_create(host=host, title="Later", scheduled_for=timezone.now() + timedelta(days=1))

    add()
    small = count_queries(lambda: authed_client.get("/api/hallway/"))
    for _ in range(5):
        add()
    assert count_queries(lambda: authed_client.get("/api/hallway/")) == small
    body = authed_client.get("/api/hallway/").json()
    assert len(body["live"]) == 6
    assert len(body["upcoming"]) == 6
    assert body["live"][0]["speakers"][0]["role"] == "moderator"


def test_hallway_needs_sign_in(api_client):
    assert api_client.get("/api/hallway/").status_code == 401


def test_ice_servers_without_turn(authed_client, settings):
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_URLS = []
    body = authed_client.get("/api/rtc/ice-servers/").json()
    assert body == {
        "ice_servers": [{"urls": ["stun:stun.example.org:3478"]}],
        "ice_transport_policy": "all",
        "expires_at": None,
        "renew_in": None,
    }


def test_ice_servers_hand_out_time_limited_turn_credentials(authed_client, user, settings):
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.TURN_SECRET = "s3cret"
    settings.TURN_CREDENTIAL_TTL_SECONDS = 600
    settings.ICE_TRANSPORT_POLICY = "relay"
    body = authed_client.get("/api/rtc/ice-servers/").json()
    (turn,) = body["ice_servers"]
    expires, user_id = turn["username"].split(":")
    assert int(user_id) == user.pk
    assert int(expires) == body["expires_at"]
    assert 0 < body["expires_at"] - timezone.now().timestamp() <= 600
    assert body["renew_in"] == 480
    expected = base64.b64encode(
        hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert body["ice_transport_policy"] == "relay"

"""Changing and cancelling a scheduled room over the API and from its page."""

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from rooms.models import Room, Topic
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, follower_of
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(user):
    return room_create(host=user, title="Later", scheduled_for=timezone.now() + timedelta(days=1))


def _as(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=person)
    return client


def test_patch_changes_only_what_is_sent(authed_client, room):
    theo = follower_of(room.host, username="theo")
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = authed_client.patch(
        f"/api/rooms/{room.pk}/",
        {"scheduled_for": when.isoformat(), "invitees": ["theo"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "Later"
    assert body["scheduled_for"].startswith(when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    assert list(Room.objects.get(pk=room.pk).invitees.all()) == [theo]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "t" * 200}, "title"),
        ({"scheduled_for": "tomorrow"}, "scheduled_for"),
        ({"invitees": "theo"}, "invitees"),
    ],
)
def test_bad_input_is_a_clear_400(authed_client, room, body, field):
    response = authed_client.patch(f"/api/rooms/{room.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_a_time_in_the_past_or_an_unknown_person_is_refused(authed_client, room):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = authed_client.patch(f"/api/rooms/{room.pk}/", {"scheduled_for": past}, format="json")
    assert response.status_code == 422
    assert "future" in error_of(response)["message"]
    response = authed_client.patch(
        f"/api/rooms/{room.pk}/", {"invitees": ["nobody"]}, format="json"
    )
    assert response.status_code == 404


def test_others_get_403_and_outsiders_of_a_closed_room_404(room):
    stranger = UserFactory()
    assert (
        _as(stranger).patch(f"/api/rooms/{room.pk}/", {"title": "x"}, format="json").status_code
        == 403
    )
    assert _as(stranger).post(f"/api/rooms/{room.pk}/cancel/").status_code == 403
    closed = room_create(
        host=room.host,
        title="Private",
        visibility="closed",
        scheduled_for=timezone.now() + timedelta(days=1),
    )
    assert _as(stranger).post(f"/api/rooms/{closed.pk}/cancel/").status_code == 404


def test_cancel_over_the_api(authed_client, room):
    response = authed_client.post(f"/api/rooms/{room.pk}/cancel/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancelled"]) == ("ended", True)
    assert error_of(authed_client.post(f"/api/rooms/{room.pk}/cancel/"))["code"] == "conflict"


def test_the_schema_has_the_patch_and_the_cancel(authed_client):
    schema = authed_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "patch" in schema["paths"]["/api/rooms/{room_id}/"]
    assert "post" in schema["paths"]["/api/rooms/{room_id}/cancel/"]


# Pages


def test_the_page_offers_edit_and_cancel_to_host_and_co_hosts_only(client, user, room):
    co_host = follower_of(user)
    room.co_hosts.add(co_host)
    for person, shown in ((user, True), (co_host, True), (UserFactory(), False)):
        client.force_login(person)
        page = client.get(room.get_absolute_url()).content.decode()
        assert (f"/rooms/{room.pk}/edit/" in page) is shown
        assert (f"/rooms/{room.pk}/cancel/" in page) is shown


def test_the_edit_form_moves_the_room_in_the_typed_time_zone(client, user, room):
    client.force_login(user)
    page = client.get(f"/rooms/{room.pk}/edit/")
    assert page.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    when = timezone.now() + timedelta(days=3)
    local = when.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/rooms/{room.pk}/edit/",
        {
            "title": "Renamed",
            "description": "",
            "scheduled_for": local,
            "time_zone": "Asia/Tokyo",
            "co_hosts": "",
            "invitees": "",
        },
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.title == "Renamed"
    # The same wall clock read in Tokyo is nine hours earlier in UTC.
    assert room.scheduled_for == when.replace(second=0, microsecond=0) - timedelta(hours=9)


def test_the_edit_form_keeps_an_unchanged_time(client, user, room):
    client.force_login(user)
    form = client.get(f"/rooms/{room.pk}/edit/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["scheduled_for"] = room.scheduled_for.strftime("%Y-%m-%dT%H:%M")
    data.update(co_hosts="", invitees="", title="Only the title")
    assert client.post(f"/rooms/{room.pk}/edit/", data).status_code == 302
    room.refresh_from_db()
    assert room.title == "Only the title"
    assert room.calendar_sequence == 1


def test_the_edit_form_shows_errors(client, user, room):
    client.force_login(user)
    response = client.post(
        f"/rooms/{room.pk}/edit/",
        {
            "title": "",
            "scheduled_for": "2020-01-01T10:00",
            "time_zone": "UTC",
            "invitees": "@ghost",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"title", "invitees"} <= set(errors)
    assert "There is no one called @ghost here." in errors["invitees"]


def test_a_past_time_from_the_form_is_a_form_error(client, user, room):
    client.force_login(user)
    response = client.post(
        f"/rooms/{room.pk}/edit/",
        {"title": "x", "scheduled_for": "2020-01-01T10:00", "time_zone": "UTC"},
    )
    assert response.status_code == 400
    assert "Pick a start time in the future." in response.content.decode()


def test_others_cannot_open_the_edit_or_cancel_pages(client, room):
    client.force_login(UserFactory())
    assert client.get(f"/rooms/{room.pk}/edit/").status_code == 403
    assert client.post(f"/rooms/{room.pk}/cancel/").status_code == 403
    room.refresh_from_db()
    assert room.status == "scheduled"


def test_cancel_asks_first_then_cancels(client, user, room):
    client.force_login(user)
    confirm = client.get(f"/rooms/{room.pk}/cancel/")
    assert confirm.status_code == 200
    assert "This cannot be undone" in confirm.content.decode()
    room.refresh_from_db()
    assert room.status == "scheduled"
    response = client.post(f"/rooms/{room.pk}/cancel/", follow=True)
    assert "called off" in response.content.decode()
    room.refresh_from_db()
    assert room.is_cancelled


def test_the_cancel_form_needs_its_csrf_token(user, room):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(f"/rooms/{room.pk}/cancel/").status_code == 403
    room.refresh_from_db()
    assert room.status == "scheduled"


def test_the_new_room_form_takes_invitees_without_script(client, user):
    theo, priya = follower_of(user, username="theo"), follower_of(user, username="priya")
    UserFactory(username="stranger")
    follower_of(user, username="fan")
    client.force_login(user)
    page = client.get("/rooms/new/").content.decode()
    assert 'name="invitees"' in page
    assert '<option value="fan">' in page  # suggestions for the picker
    response = client.post(
        "/rooms/new/",
        {"title": "Closed", "visibility": "closed", "start": "now", "invitees": "@theo priya"},
    )
    assert response.status_code == 302
    room = Room.objects.get(title="Closed")
    assert set(room.invitees.all()) == {theo, priya}
    response = client.post(
        "/rooms/new/",
        {"title": "x", "visibility": "closed", "start": "now", "invitees": "stranger"},
    )
    assert response.status_code == 400
    assert "you can invite only people who follow you" in response.content.decode()
    response = client.post(
        "/rooms/new/", {"title": "x", "visibility": "open", "start": "now", "invitees": "ghost"}
    )
    assert response.status_code == 400
    assert "There is no one called @ghost here." in response.content.decode()


def test_patch_changes_topics_and_language(authed_client, room):
    Topic.objects.get_or_create(slug="music", defaults={"name": "Music"})
    response = authed_client.patch(
        f"/api/rooms/{room.pk}/", {"topics": ["music"], "language": "fr"}, format="json"
    )
    assert response.status_code == 200, response.json()
    room.refresh_from_db()
    assert ([t.slug for t in room.topics.all()], room.language) == (["music"], "fr")
    response = authed_client.patch(f"/api/rooms/{room.pk}/", {"language": "xx"}, format="json")
    assert response.status_code == 400
    assert "language" in error_of(response)["fields"]
    response = authed_client.patch(f"/api/rooms/{room.pk}/", {"topics": ["nope"]}, format="json")
    assert response.status_code == 404


def test_the_edit_form_changes_topics(client, user, room):
    Topic.objects.get_or_create(slug="books", defaults={"name": "Books"})
    client.force_login(user)
    form = client.get(f"/rooms/{room.pk}/edit/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["scheduled_for"] = room.scheduled_for.strftime("%Y-%m-%dT%H:%M")
    data.update(co_hosts="", invitees="", topics=["books"], language="es")
    assert client.post(f"/rooms/{room.pk}/edit/", data).status_code == 302
    room.refresh_from_db()
    assert ([t.slug for t in room.topics.all()], room.language) == (["books"], "es")

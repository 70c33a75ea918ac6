"""A shared room link opened by someone signed out: what the room is, with link-preview tags
for chats, for the rooms open to visitors only; and the way back after signing in or up."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user

from follows.models import ClubMembership
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create, room_end
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.rooms.factories import member
from tests.support.helpers import image_upload

pytestmark = pytest.mark.django_db


def _meta(page: str) -> dict[str, str]:
    """The page's Open Graph and Twitter tags, by name."""
    tags = re.findall(
        r'<meta (?:property|name)="((?:og|twitter):[a-z_]+)" content="([^"]*)">', page
    )
    return dict(tags)


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://audio.example.com/"
    return "https://audio.example.com"


def test_a_visitor_sees_a_public_live_room_with_its_preview(client, host, site):
    room = room_create(host=host, title="Late talk", description="About owls.")
    member(room, host, RoomMember.Role.MODERATOR)
    member(room, UserFactory(display_name="Sam Speaker"), RoomMember.Role.SPEAKER)
    for _ in range(3):
        member(room, UserFactory())
    response = client.get(f"/rooms/{room.pk}/")
    assert response.status_code == 200
    assert response.templates[0].name == "rooms/room_visitor.html"
    page = response.content.decode()
    assert "<h1>Late talk</h1>" in page
    assert "Live now · 3 listening" in page
    assert "Hosted by <strong>Host</strong>" in page
    stage = page[page.index("data-visitor-stage") :]
    assert stage.index("<strong>Host</strong>") < stage.index("<strong>Sam Speaker</strong>")
    assert f'href="/accounts/signup/?next=/rooms/{room.pk}/"' in page
    assert f'href="/accounts/login/?next=/rooms/{room.pk}/"' in page
    meta = _meta(page)
    assert meta["og:title"] == "Late talk"
    assert meta["og:description"] == (
        "Live now · hosted by Host · 2 on stage · 3 listening. About owls."
    )
    assert meta["og:url"] == f"{site}/rooms/{room.pk}/"
    assert re.fullmatch(rf"{site}/static/img/share(\.\w+)?\.png", meta["og:image"])
    assert meta["twitter:card"] == "summary_large_image"
    # Nothing of a person is cached for the next visitor: the page varies with the cookie.
    assert "Cookie" in response["Vary"]


def test_the_preview_shows_the_hosts_picture(client, host, site, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    host.avatar.save("host.png", image_upload())
    room = room_create(host=host, title="Late talk")
    meta = _meta(client.get(f"/rooms/{room.pk}/").content.decode())
    assert meta["og:image"] == f"{site}{host.avatar.url}"
    assert meta["twitter:card"] == "summary"


def test_a_visitor_sees_when_a_scheduled_room_starts(client, host, november):
    when = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    room = room_create(host=host, title="Book club", scheduled_for=when)
    page = client.get(f"/rooms/{room.pk}/").content.decode()
    assert '<time datetime="2026-12-01T18:30:00+00:00" data-local="full">' in page
    assert "Sign in to get a reminder" in page
    assert _meta(page)["og:description"] == "Starts Tue 1 Dec 2026, 18:30 UTC · hosted by Host."


def test_a_visitor_sees_that_a_public_room_ended(client, host):
    room = room_create(host=host, title="Late talk")
    room_end(actor=host, room_id=room.pk)
    response = client.get(f"/rooms/{room.pk}/")
    assert response.status_code == 200
    assert "rooms/room_ended.html" in [t.name for t in response.templates]
    assert _meta(response.content.decode())["og:title"] == "Late talk"


@pytest.mark.parametrize("visibility", [Room.Visibility.SOCIAL, Room.Visibility.CLOSED])
def test_a_room_not_open_to_visitors_says_nothing_about_itself(client, host, visibility):
    club = MembershipFactory(user=host, role=ClubMembership.Role.ADMIN, club__name="Owls").club
    room = room_create(host=host, title="Secret plans", description="Hush.", visibility=visibility)
    club_room = room_create(host=host, title="Club plans", club=club, visibility=visibility)
    for private in (room, club_room):
        response = client.get(f"/rooms/{private.pk}/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Sign in to see this room" in page
        for secret in ("Secret plans", "Club plans", "Hush.", "Host", club.name):
            assert secret not in page
        assert _meta(page)["og:title"] == "A room on Roundtable"
        assert f'href="/accounts/login/?next=/rooms/{private.pk}/"' in page


def test_a_room_that_does_not_exist_looks_the_same_to_a_visitor(client, host):
    private = room_create(host=host, title="Secret", visibility=Room.Visibility.CLOSED)
    missing = "00000000-0000-4000-8000-000000000000"
    pages = [client.get(f"/rooms/{pk}/") for pk in (private.pk, missing)]
    assert [page.status_code for page in pages] == [200, 200]
    assert pages[0].content.replace(str(private.pk).encode(), b"") == pages[1].content.replace(
        missing.encode(), b""
    )


def test_signing_in_from_a_private_rooms_page_leads_into_it(client, host):
    room = room_create(host=host, title="Secret", visibility=Room.Visibility.CLOSED)
    response = client.post(
        "/accounts/login/",
        {"username": "host", "password": PASSWORD, "next": f"/rooms/{room.pk}/"},
    )
    assert response["Location"] == f"/rooms/{room.pk}/"
    assert b"<h1>Secret</h1>" in client.get(response["Location"]).content


def test_signing_up_from_a_room_comes_back_to_it(client, host):
    room = room_create(host=host, title="Late talk")
    form = client.get(f"/accounts/signup/?next=/rooms/{room.pk}/").content.decode()
    assert f'<input type="hidden" name="next" value="/rooms/{room.pk}/">' in form
    assert f'href="/accounts/login/?next=/rooms/{room.pk}/"' in form
    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "password": PASSWORD, "next": f"/rooms/{room.pk}/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.pk}/"
    assert get_user(client).username == "ada"
    assert client.get(response["Location"]).templates[0].name == "rooms/room.html"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/rooms/", "javascript:alert(1)"]
)
def test_sign_up_goes_nowhere_off_the_site(client, target):
    form = client.get("/accounts/signup/", {"next": target}).content.decode()
    assert 'name="next" value=""' in form
    response = client.post(
        "/accounts/signup/", {"username": "ada", "password": PASSWORD, "next": target}
    )
    assert response["Location"] == "/"


def test_the_sign_in_page_carries_next_to_sign_up(client):
    page = client.get("/accounts/login/?next=/u/maya/").content.decode()
    assert 'href="/accounts/signup/?next=/u/maya/"' in page


def test_someone_signed_in_who_opens_sign_up_goes_on_to_next(client, user):
    client.force_login(user)
    assert client.get("/accounts/signup/?next=/clubs/")["Location"] == "/clubs/"

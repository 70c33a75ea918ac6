from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create, room_end
from tests.factories import PASSWORD, BlockFactory, FollowFactory, UserFactory
from tests.rooms.factories import member
from tests.support.helpers import image_upload, png_bomb

pytestmark = pytest.mark.django_db


def test_landing_page_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Live conversations, out loud." in response.content
    assert b"/accounts/signup/" in response.content


def test_signup_page_creates_an_account_and_signs_in(client):
    response = client.post(
        "/accounts/signup/", {"username": "ada", "password": PASSWORD, "display_name": "Ada"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert get_user(client).username == "ada"
    hallway = client.get("/")
    assert b"Welcome to Roundtable, Ada!" in hallway.content


def test_signup_page_shows_why_it_refused(client):
    UserFactory(username="ada")
    response = client.post("/accounts/signup/", {"username": "ADA", "password": PASSWORD})
    assert response.status_code == 400
    assert b"That username is taken." in response.content
    weak = client.post("/accounts/signup/", {"username": "bea", "password": "123"})
    assert weak.status_code == 400
    assert b"too short" in weak.content
    assert User.objects.count() == 1


def test_signup_page_is_throttled(client):
    for _ in range(10):
        client.post("/accounts/signup/", {"username": "x"})
    response = client.post("/accounts/signup/", {"username": "late", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert not User.objects.filter(username="late").exists()


def test_login_ignores_case_and_redirects_to_next(client):
    UserFactory(username="Maya")
    response = client.post(
        "/accounts/login/", {"username": "maya", "password": PASSWORD, "next": "/clubs/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/clubs/"
    assert get_user(client).username == "Maya"


def test_login_with_a_wrong_password_explains(client):
    UserFactory(username="maya")
    response = client.post("/accounts/login/", {"username": "maya", "password": "wrong-wrong"})
    assert response.status_code == 400
    assert b"enter a correct username and password" in response.content
    assert not get_user(client).is_authenticated


def test_login_is_throttled(client):
    UserFactory(username="maya")
    for _ in range(10):
        client.post("/accounts/login/", {"username": "maya", "password": "wrong-wrong"})
    response = client.post("/accounts/login/", {"username": "maya", "password": PASSWORD})
    assert response.status_code == 429
    assert not get_user(client).is_authenticated


def test_the_admin_sign_in_shares_the_throttle(client):
    """Staff sign in through the admin's own page: it must be no way around the limit, and
    attempts there and on the site's page count together."""
    UserFactory(username="ops", is_staff=True, is_superuser=True)
    for _ in range(5):
        client.post("/accounts/login/", {"username": "ops", "password": "wrong-wrong"})
    for _ in range(5):
        answer = client.post("/admin/login/", {"username": "ops", "password": "wrong-wrong"})
        assert answer.status_code == 200
    response = client.post("/admin/login/", {"username": "ops", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts from your address" in response.content.decode()
    assert not get_user(client).is_authenticated


def test_the_admin_sign_in_lets_staff_in(client):
    UserFactory(username="ops", is_staff=True)
    response = client.post("/admin/login/", {"username": "ops", "password": PASSWORD})
    assert response.status_code == 302
    assert get_user(client).is_authenticated


def test_password_change_shows_why_it_refused(client, user):
    """With 400, as every form here: pages sent by Turbo Drive render a refused form only
    with an error status (a 200 would leave the unchanged form on the screen)."""
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "not-it",
            "new_password1": "x-new-pass-42",
            "new_password2": "x-new-pass-42",
        },
    )
    assert response.status_code == 400
    assert "incorrect" in response.content.decode()


def test_logout_is_a_post(client, user):
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert not get_user(client).is_authenticated


def test_profile_page_shows_counts_and_a_follow_button(client, user):
    maya = UserFactory(username="maya", display_name="Maya O", bio="Jazz at night")
    FollowFactory(followee=maya)
    FollowFactory(followee=maya)
    client.force_login(user)
    response = client.get("/u/maya/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Maya O" in html
    assert "Jazz at night" in html
    assert "<strong>2</strong> followers" in html
    assert 'value="follow"' in html


def test_profile_page_hides_details_from_a_blocked_viewer(client, user):
    maya = UserFactory(username="maya", bio="Jazz at night")
    BlockFactory(blocker=maya, blocked=user)
    client.force_login(user)
    html = client.get("/u/maya/").content.decode()
    assert "Jazz at night" not in html
    assert "has limited who can see their profile" in html
    assert 'value="follow"' not in html
    followers = client.get("/u/maya/followers/").content.decode()
    assert "has limited who can see their profile" in followers


def test_profile_of_nobody_is_a_404_page(client):
    response = client.get("/u/nobody/")
    assert response.status_code == 404
    assert b"There is no one called @nobody here." in response.content


def test_followers_page_lists_people(client, user):
    maya = UserFactory(username="maya")
    fan = UserFactory(username="fan_one", display_name="Fan One")
    FollowFactory(follower=fan, followee=maya)
    client.force_login(user)
    html = client.get("/u/maya/followers/").content.decode()
    assert "Fan One" in html
    assert "/u/fan_one/" in html


def test_edit_profile_saves_and_shows_errors(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)
    assert client.get("/accounts/profile/").status_code == 200
    ok = client.post(
        "/accounts/profile/",
        {"display_name": "New Name", "bio": "Hi", "email": user.email, "avatar": image_upload()},
    )
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "New Name"
    assert user.avatar
    bad = client.post(
        "/accounts/profile/", {"display_name": "x", "bio": "b" * 400, "email": "nope"}
    )
    assert bad.status_code == 400
    assert b"Enter a valid email address." in bad.content
    user.refresh_from_db()
    assert user.bio == "Hi"


def test_edit_profile_refuses_a_file_that_is_not_a_picture(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)
    fake = SimpleUploadedFile("me.png", b"<?php echo 1; ?>", content_type="image/png")
    response = client.post("/accounts/profile/", {"display_name": "x", "avatar": fake})
    assert response.status_code == 400
    assert b"Upload a picture" in response.content


def test_edit_profile_refuses_a_decompression_bomb_on_the_form(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(user)
    response = client.post("/accounts/profile/", {"avatar": png_bomb(13000, 13000)})
    assert response.status_code == 400
    assert "The picture is too big (13000 x 13000 pixels)" in response.content.decode()
    user.refresh_from_db()
    assert not user.avatar


def test_edit_profile_needs_a_signed_in_user(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_password_change_page(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret",
            "new_password2": "another-long-secret",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-secret")


def _rooms_of(host, *, count: int, club=None):
    """`count` live rooms with a stage and an audience, and as many scheduled ones."""
    later = timezone.now() + timedelta(days=1)
    for n in range(count):
        room = room_create(host=host, title=f"Live {n}", club=club)
        member(room, host, RoomMember.Role.MODERATOR)
        member(room, UserFactory(), RoomMember.Role.SPEAKER)
        member(room, UserFactory())
        room_create(host=host, title=f"Later {n}", club=club, scheduled_for=later)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_profile_page_lists_their_live_and_upcoming_rooms(client, user):
    maya = UserFactory(username="maya")
    live = room_create(host=maya, title="Maya live")
    later = room_create(
        host=maya, title="Maya later", scheduled_for=timezone.now() + timedelta(hours=3)
    )
    ended = room_create(host=maya, title="Maya ended")
    room_end(actor=maya, room_id=ended.pk)
    room_create(host=UserFactory(), title="Somebody else")
    client.force_login(user)
    page = client.get("/u/maya/").content.decode()
    assert page.index("Maya live") < page.index("Maya later")
    assert f'href="/rooms/{live.pk}/"' in page
    assert f'data-remind="/api/rooms/{later.pk}/rsvp/"' in page
    assert "Maya ended" not in page
    assert "Somebody else" not in page


def test_profile_page_shows_visitors_the_open_rooms_and_a_preview(client, settings):
    settings.SITE_URL = "https://audio.example.com"
    maya = UserFactory(username="maya", display_name="Maya", bio="Talks about owls.")
    room_create(host=maya, title="Maya live")
    room_create(host=maya, title="Maya social", visibility=Room.Visibility.SOCIAL)
    later = room_create(
        host=maya, title="Maya later", scheduled_for=timezone.now() + timedelta(hours=3)
    )
    response = client.get("/u/maya/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Maya live" in page
    assert "Maya social" not in page
    assert f'href="/accounts/login/?next=/rooms/{later.pk}/">Sign in for a reminder' in page
    assert '<meta property="og:title" content="Maya">' in page
    assert '<meta property="og:description" content="Talks about owls.">' in page
    assert '<meta property="og:url" content="https://audio.example.com/u/maya/">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page


def test_a_profile_preview_says_nothing_to_someone_they_blocked(client, user):
    maya = UserFactory(username="maya", bio="Talks about owls.")
    BlockFactory(blocker=maya, blocked=user)
    client.force_login(user)
    page = client.get("/u/maya/").content.decode()
    assert "og:" not in page
    assert "Talks about owls." not in page


def test_profile_page_query_count_does_not_grow_with_rooms(client, user, settings):
    # More rooms than one person may have live at once: the page's cost must not grow.
    settings.ROOM_LIVE_PER_PERSON = settings.ROOM_CREATIONS_PER_HOUR = 100
    maya = UserFactory(username="maya")
    client.force_login(user)
    _rooms_of(maya, count=1)
    few = _queries(client, "/u/maya/")
    _rooms_of(maya, count=5)
    assert _queries(client, "/u/maya/") == few


def test_the_header_signs_in_and_up_back_to_the_page(client):
    page = client.get("/clubs/?page=2").content.decode()
    assert 'href="/accounts/login/?next=/clubs/%3Fpage%3D2"' in page
    assert 'href="/accounts/signup/?next=/clubs/%3Fpage%3D2"' in page
    # On the sign-in pages themselves the header's links lead nowhere else.
    assert 'href="/accounts/signup/"' in client.get("/accounts/login/").content.decode()

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import ApiToken, User, api_token_digest
from tests.factories import PASSWORD, BlockFactory, FollowFactory, UserFactory
from tests.support.helpers import error_of, image_upload, png_bomb

pytestmark = pytest.mark.django_db

SIGNUP = "/api/auth/signup/"
TOKEN = "/api/auth/token/"
ME = "/api/me/"


def test_signup_creates_the_account_and_returns_a_working_token(api_client):
    response = api_client.post(
        SIGNUP, {"username": "ada", "password": PASSWORD, "display_name": "Ada L"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "ada"
    assert body["user"]["display_name"] == "Ada L"
    assert "password" not in body["user"]
    me = APIClient().get(ME, HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.status_code == 200
    assert me.json()["username"] == "ada"


# 400: the request breaks the schema; 422: a rule refuses it (a name taken, a password
# too easy to guess).
@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"username": "ADA", "password": PASSWORD}, None, 422),
        ({"username": "newbie", "password": "12345"}, "password", 422),
        ({"username": "newbie"}, "password", 400),
        ({"password": PASSWORD}, "username", 400),
        ({"username": "n" * 31, "password": PASSWORD}, "username", 400),
        (
            {"username": "newbie", "password": PASSWORD, "display_name": "d" * 51},
            "display_name",
            400,
        ),
        ({"username": "newbie", "password": PASSWORD, "email": "not-an-email"}, "email", 400),
        ({"username": "new bie!", "password": PASSWORD}, "username", 400),
    ],
)
def test_signup_refuses_bad_input_with_a_clear_error(api_client, payload, field, status):
    UserFactory(username="ada")
    response = api_client.post(SIGNUP, payload, format="json")
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == "invalid"
    if field:
        assert field in error["fields"]
    else:
        assert error["message"] == "That username is taken."
    assert User.objects.count() == 1


def test_malformed_json_is_a_parse_error(api_client):
    response = api_client.post(SIGNUP, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_token_for_the_right_password(api_client):
    user = UserFactory(username="ada")
    response = api_client.post(TOKEN, {"username": "Ada", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    assert ApiToken.objects.get(user=user).digest == api_token_digest(key)


def test_token_refused_for_a_wrong_password(api_client):
    UserFactory(username="ada")
    response = api_client.post(TOKEN, {"username": "ada", "password": "nope-nope"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_sign_in_attempts_are_throttled(api_client):
    UserFactory(username="ada")
    codes = [
        api_client.post(
            TOKEN, {"username": "ada", "password": "wrong-one"}, format="json"
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429
    last = api_client.post(TOKEN, {"username": "ada", "password": PASSWORD}, format="json")
    assert last.status_code == 429
    assert error_of(last)["code"] == "throttled"
    assert "Retry-After" in last.headers


def test_signup_attempts_share_the_throttle(api_client):
    for n in range(10):
        assert api_client.post(SIGNUP, {"username": f"u{n}x"}, format="json").status_code == 400
    assert (
        api_client.post(
            SIGNUP, {"username": "late", "password": PASSWORD}, format="json"
        ).status_code
        == 429
    )
    assert not User.objects.filter(username="late").exists()


def test_me_needs_a_signed_in_user(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_me_rejects_an_unknown_token(api_client):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Token 0000000000")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_me_patch_updates_the_profile(authed_client, user):
    response = authed_client.patch(
        ME, {"bio": "Radio at night", "display_name": "Night"}, format="json"
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.bio, user.display_name) == ("Radio at night", "Night")


def test_me_patch_refuses_an_over_long_bio(authed_client, user):
    response = authed_client.patch(ME, {"bio": "b" * 301}, format="json")
    assert response.status_code == 400
    assert "bio" in error_of(response)["fields"]
    user.refresh_from_db()
    assert user.bio == ""


def test_me_patch_takes_a_picture_and_refuses_other_files(authed_client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ok = authed_client.patch(ME, {"avatar": image_upload()}, format="multipart")
    assert ok.status_code == 200
    assert ok.json()["avatar_url"].startswith("/media/avatars/")
    bad = SimpleUploadedFile("notes.png", b"plain text, not pixels", content_type="image/png")
    refused = authed_client.patch(ME, {"avatar": bad}, format="multipart")
    assert refused.status_code == 422
    assert "avatar" in error_of(refused)["fields"]
    removed = authed_client.patch(ME, {"avatar": None}, format="json")
    assert removed.json()["avatar_url"] is None


def test_me_patch_refuses_a_decompression_bomb_with_a_clear_error(
    authed_client, user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    refused = authed_client.patch(ME, {"avatar": png_bomb(13000, 13000)}, format="multipart")
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "invalid"
    assert error["message"] == (
        "avatar: The picture is too big (13000 x 13000 pixels); the limit is 16 million pixels."
    )
    user.refresh_from_db()
    assert not user.avatar


def test_session_writes_need_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password=PASSWORD)
    response = client.patch(ME, {"bio": "sneaky"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]
    user.refresh_from_db()
    assert user.bio == ""


def test_session_writes_pass_with_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password=PASSWORD)
    client.get("/accounts/profile/")
    token = client.cookies["csrftoken"].value
    response = client.patch(ME, {"bio": "fine"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_user_detail_shows_counts_and_relations(authed_client, user):
    other = UserFactory(username="maya", bio="Jazz")
    FollowFactory(follower=user, followee=other)
    FollowFactory(follower=other, followee=user)
    FollowFactory(followee=other)
    body = authed_client.get("/api/users/MAYA/").json()
    assert body["username"] == "maya"
    assert body["bio"] == "Jazz"
    assert (body["follower_count"], body["following_count"]) == (2, 1)
    assert body["you_follow"] is True
    assert body["follows_you"] is True
    assert body["blocked_you"] is False


def test_a_blocked_viewer_sees_no_profile_details(authed_client, user):
    other = UserFactory(username="maya", bio="Jazz")
    BlockFactory(blocker=other, blocked=user)
    body = authed_client.get("/api/users/maya/").json()
    assert body["blocked_you"] is True
    assert body["bio"] is None
    assert body["follower_count"] is None


def test_unknown_user_is_a_json_404(authed_client):
    response = authed_client.get("/api/users/nobody/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/no-such-thing/", "/api/rooms/not-a-uuid/x", "/api/%ff/"])
def test_unknown_api_path_is_a_json_404(authed_client, settings, debug, path):
    settings.DEBUG = debug
    response = authed_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"

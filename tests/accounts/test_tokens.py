"""API tokens: one per sign-in, listed and revoked by their owner, expiring, and all revoked
by a new password."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tasks
from accounts.models import ApiToken, api_token_digest
from accounts.services.tokens import api_token_create
from tests.factories import PASSWORD, UserFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
TOKENS = "/api/auth/tokens/"


def _sign_in(username="ada", **extra) -> str:
    response = APIClient().post(
        TOKEN, {"username": username, "password": PASSWORD, **extra}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    return response.json()["token"]


def _with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def ada():
    return UserFactory(username="ada")


def test_every_sign_in_makes_a_new_token_and_the_older_ones_keep_working(ada):
    first, second = _sign_in(), _sign_in(name="My phone")
    assert first != second
    assert _with(first).get("/api/me/").status_code == 200
    assert _with(second).get("/api/me/").status_code == 200
    assert ApiToken.objects.filter(user=ada).count() == 2


def test_tokens_are_stored_only_as_digests(ada):
    key = _sign_in()
    stored = ApiToken.objects.get(user=ada)
    assert stored.digest == api_token_digest(key)
    assert key not in {stored.digest, stored.prefix, stored.name}


def test_a_new_password_on_the_page_revokes_every_token(ada, client):
    keys = [_sign_in(), _sign_in()]
    client.force_login(ada)
    new = "a-brand-new-passphrase-42"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    for key in keys:
        refused = _with(key).get("/api/me/")
        assert refused.status_code == 401
        assert error_of(refused)["message"] == (
            "That token is unknown, revoked or expired; sign in again."
        )
    assert client.get("/accounts/profile/").status_code == 200  # the page's session stays


def test_a_password_set_anywhere_else_revokes_them_too(ada):
    key = _sign_in()
    ada.set_password("another-passphrase-77")
    ada.save()
    assert _with(key).get("/api/me/").status_code == 401


def test_a_stronger_hash_made_at_sign_in_is_not_a_new_password(settings):
    """Django re-hashes a password with a newer hasher when someone signs in; that keeps
    the tokens."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="ada")
    _, key = api_token_create(user=user)
    settings.PASSWORD_HASHERS = [
        "tests.accounts.hashers.CountingHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    _sign_in()
    user.refresh_from_db()
    assert user.password.startswith("counting_md5$")
    assert _with(key).get("/api/me/").status_code == 200


def test_the_token_list_shows_your_live_tokens_and_which_one_is_asking(ada):
    key = _sign_in(name="Laptop")
    _sign_in(name="Phone")
    expired, _ = api_token_create(user=ada, name="Old")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    api_token_create(user=UserFactory(), name="Someone else's")
    body = _with(key).get(TOKENS).json()
    assert body["count"] == 2
    assert [(t["name"], t["current"]) for t in body["results"]] == [
        ("Phone", False),
        ("Laptop", True),
    ]
    laptop = body["results"][1]
    assert laptop["prefix"] == key[:8]
    assert laptop["last_used"] is not None
    assert laptop["expires_at"] is not None


def test_revoking_a_token_stops_it_and_only_yours_can_be_revoked(ada):
    keep, drop = _sign_in(), _sign_in()
    drop_id = ApiToken.objects.get(digest=api_token_digest(drop)).pk
    other, _ = api_token_create(user=UserFactory())
    client = _with(keep)
    assert client.delete(f"{TOKENS}{other.pk}/").status_code == 404
    assert client.delete(f"{TOKENS}{2**70}/").status_code == 404
    assert client.delete(f"{TOKENS}{drop_id}/").status_code == 204
    assert _with(drop).get("/api/me/").status_code == 401
    assert client.get("/api/me/").status_code == 200
    assert ApiToken.objects.filter(pk=other.pk).exists()


def test_tokens_expire_after_the_configured_days(ada, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    key = _sign_in()
    token = ApiToken.objects.get(digest=api_token_digest(key))
    assert token.expires_at - token.created == pytest.approx(
        timedelta(days=30), abs=timedelta(minutes=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _with(key).get("/api/me/").status_code == 401


def test_tokens_can_be_kept_until_revoked(ada, settings):
    settings.API_TOKEN_TTL_DAYS = 0
    key = _sign_in()
    assert ApiToken.objects.get(digest=api_token_digest(key)).expires_at is None


def test_the_profile_page_lists_tokens_and_revokes_one(ada, client):
    key = _sign_in(name="Kitchen radio")
    token = ApiToken.objects.get(digest=api_token_digest(key))
    client.force_login(ada)
    page = client.get("/accounts/profile/").content.decode()
    assert "Kitchen radio" in page
    assert f"<code>{key[:8]}…</code>" in page
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "The token is revoked" in response.content.decode()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert _with(key).get("/api/me/").status_code == 401


def test_someone_elses_token_cannot_be_revoked_from_the_page(client):
    token, _ = api_token_create(user=UserFactory())
    client.force_login(UserFactory())
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "You have no such token." in response.content.decode()
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_tokens_made_before_rotation_are_carried_over(ada, settings):
    """REST framework's one-token-per-person table: each key keeps working as an ApiToken."""
    settings.API_TOKEN_TTL_DAYS = 90
    migration = importlib.import_module("accounts.migrations.0004_api_tokens")
    key, made = "0123456789abcdef0123456789abcdef01234567", timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token "
            "(key varchar(40) PRIMARY KEY, user_id bigint NOT NULL, created timestamp with time zone NOT NULL)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token "
            "(key varchar(40) PRIMARY KEY, user_id bigint NOT NULL, created datetime NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            [
                key,
                ada.pk,
                made if connection.vendor == "postgresql" else made.strftime("%Y-%m-%d %H:%M:%S"),
            ],
        )
    # The function reads only the editor's connection; a real editor cannot open inside a
    # test's transaction on SQLite.
    migration.copy_old_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    carried = ApiToken.objects.get(user=ada)
    assert carried.prefix == key[:8]
    assert abs(carried.created - made) < timedelta(seconds=1)
    assert carried.expires_at > timezone.now() + timedelta(days=89)
    assert _with(key).get("/api/me/").status_code == 200


def test_the_hourly_task_drops_expired_tokens_and_sessions(ada, client, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    expired, live = _sign_in(), _sign_in()
    settings.API_TOKEN_TTL_DAYS = 0
    forever = _sign_in()
    ApiToken.objects.filter(digest=api_token_digest(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client.force_login(ada)
    Session.objects.create(
        session_key="gone" * 8, session_data="", expire_date=timezone.now() - timedelta(days=1)
    )

    assert tasks.purge_expired() == {"tokens": 1, "sessions": 1}
    left = set(ApiToken.objects.values_list("digest", flat=True))
    assert left == {api_token_digest(live), api_token_digest(forever)}
    assert client.get("/api/me/").status_code == 200  # the live session stays
    assert tasks.purge_expired() == {"tokens": 0, "sessions": 0}

"""Every failed sign-in costs the same hashing, so its time does not tell who has an account."""

import pytest
from django.utils import timezone

from tests.accounts.hashers import CountingHasher
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CASES = {
    "no such person": ("nobody_here", PASSWORD),
    "wrong password": ("ada", "wrong-password"),
    "right password": ("ada", PASSWORD),
    "banned, wrong password": ("banned", "wrong-password"),
    "banned, right password": ("banned", PASSWORD),
    "deactivated, right password": ("gone", PASSWORD),
}


@pytest.fixture
def people(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.hashers.CountingHasher"]
    UserFactory(username="ada")
    UserFactory(username="banned", banned_at=timezone.now())
    UserFactory(username="gone", is_active=False)


def _hashes(attempt) -> int:
    CountingHasher.calls = 0
    attempt()
    return CountingHasher.calls


@pytest.mark.parametrize("case", CASES)
def test_every_api_sign_in_hashes_once(people, api_client, case):
    username, password = CASES[case]
    body = {"username": username, "password": password}
    assert _hashes(lambda: api_client.post("/api/auth/token/", body, format="json")) == 1


@pytest.mark.parametrize("case", CASES)
def test_every_sign_in_on_the_page_hashes_once(people, client, case):
    username, password = CASES[case]
    body = {"username": username, "password": password}
    assert _hashes(lambda: client.post("/accounts/login/", body)) == 1


def test_a_banned_person_with_the_right_password_still_learns_why(people, api_client, client):
    body = {"username": "banned", "password": PASSWORD}
    api = api_client.post("/api/auth/token/", body, format="json")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "account_restricted"
    page = client.post("/accounts/login/", body)
    assert page.status_code == 400
    assert "Your account is banned from Roundtable." in page.content.decode()
    admin = client.post("/admin/login/", body)
    assert admin.status_code == 200
    assert "Your account is banned from Roundtable." in admin.content.decode()

"""Malformed input gets a clear 4xx, never a 500, on every database."""

import pytest

from tests.factories import UserFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db

NUL_ADDRESSES = [
    "/u/ma%00ya/",
    "/u/ma%00ya/followers/",
    "/notifications/calendar/t%00ken.ics",
    "/api/users/ma%00ya/",
    "/api/users/ma%00ya/followers/",
    "/api/rooms/?host=ma%00ya",
    "/api/rooms/?club=bo%00oks",
    "/api/rooms/?status=live%00",
    "/api/clubs/books/members/?status=%00",
    "/clubs/?page=%00",
    "/accounts/login/?next=/%00",
    "/api/notifications/?unread%00=1",
]


@pytest.mark.parametrize("address", NUL_ADDRESSES)
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_nul_character_in_the_address_is_a_400(client, address, signed_in):
    """Postgres cannot hold NUL in text: a lookup with one used to fail with 500."""
    if signed_in:
        client.force_login(UserFactory())
    response = client.get(address)
    assert response.status_code == 400
    if address.startswith("/api/"):
        assert error_of(response) == {
            "code": "bad_request",
            "message": "The address contains a NUL character.",
        }
    else:
        assert "The address contains a NUL character." in response.content.decode()


@pytest.mark.parametrize("number", [2**63, 2**64 + 1, 10**30])
def test_a_huge_notification_id_is_a_clear_400(authed_client, number):
    """SQLite's integers are 64-bit: a bigger one used to overflow inside the query."""
    response = authed_client.post("/api/notifications/read/", {"ids": [number]}, format="json")
    assert response.status_code == 400
    assert "ids" in error_of(response)["fields"]


def test_the_largest_possible_notification_id_is_simply_not_yours(authed_client):
    response = authed_client.post("/api/notifications/read/", {"ids": [2**63 - 1]}, format="json")
    assert response.status_code == 404

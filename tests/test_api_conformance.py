"""Answers of a real server that the schema used to get wrong, checked against the schema
`/api/schema/` serves (schemathesis' response checks)."""

import pytest
import requests
import schemathesis

from accounts.services.tokens import api_token_create
from tests.factories import ClubFactory, UserFactory
from tests.support.helpers import openapi_schema

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def schema():
    return schemathesis.openapi.from_dict(openapi_schema())


def _signed_in(email="someone@example.com") -> dict:
    _, key = api_token_create(user=UserFactory(email=email))
    return {"Authorization": f"Token {key}"}


def test_a_list_is_documented_as_the_page_it_is(server, schema):
    ClubFactory()
    response = requests.get(f"{server.url}/api/clubs/", headers=_signed_in(), timeout=10)
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}
    schema["/api/clubs/"]["GET"].validate_response(response)


def test_a_page_past_the_last_is_a_documented_404(server, schema):
    response = requests.get(f"{server.url}/api/clubs/?page=2", headers=_signed_in(), timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "404" in openapi_schema()["paths"]["/api/clubs/"]["get"]["responses"]
    schema["/api/clubs/"]["GET"].validate_response(response)


def test_an_account_without_an_email_address_conforms(server, schema):
    response = requests.get(f"{server.url}/api/me/", headers=_signed_in(email=""), timeout=10)
    assert response.status_code == 200
    assert response.json()["email"] == ""
    schema["/api/me/"]["GET"].validate_response(response)


def test_a_malformed_multipart_body_is_answered_by_the_api(server, schema):
    """Twisted used to parse a POSTed form itself and answer a broken one with a bare 400,
    no body and no content type, before the application saw it. (The API reads JSON, and
    multipart only where it takes an upload: here the answer is the API's own 415.)"""
    response = requests.post(
        f"{server.url}/api/auth/token/",
        data=b"--boundary--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=boundary"},
        timeout=10,
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    schema["/api/auth/token/"]["POST"].validate_response(response)

"""The client-address rule: X-Forwarded-For is believed only from trusted proxies."""

import pytest
from django.test import RequestFactory

from core.client_address import client_address
from tests.factories import PASSWORD, UserFactory

TOKEN = "/api/auth/token/"


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # The proxy appended the client's address; what the client wrote to its left is not
        # believed.
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "1.1.1.1, 8.8.8.8, 198.51.100.1", "198.51.100.1"),
        # Two trusted proxies in a row (a load balancer, then nginx).
        ("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.7", "198.51.100.1"),
        ("10.0.0.2", " 2001:db8::5 ", "2001:db8::5"),
        # A peer that is not a proxy speaks for itself, whatever it sends.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # No header, a garbled one, or only proxies in it: the nearest proxy is all we know.
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "not-an-address", "10.0.0.2"),
        ("10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.2"),
    ],
)
def test_trusted_proxies_are_skipped_from_the_right(settings, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request(remote, forwarded)) == expected


@pytest.mark.django_db
def test_a_new_forwarded_address_per_request_does_not_reset_the_api_sign_in_throttle(
    api_client,
):
    UserFactory(username="ada")
    codes = [
        api_client.post(
            TOKEN,
            {"username": "ada", "password": "wrong-one"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(12)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10:] == [429, 429]


@pytest.mark.django_db
def test_a_new_forwarded_address_per_request_does_not_reset_the_login_page_throttle(client):
    UserFactory(username="maya")
    for n in range(10):
        client.post(
            "/accounts/login/",
            {"username": "maya", "password": "wrong-wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    response = client.post(
        "/accounts/login/",
        {"username": "maya", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_count(api_client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    UserFactory(username="ada")

    def attempt(forwarded):
        return api_client.post(
            TOKEN,
            {"username": "ada", "password": "wrong-one"},
            format="json",
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    assert [attempt("198.51.100.1") for _ in range(11)][-1] == 429
    # What the guesser writes in front of the proxy's entry changes nothing ...
    assert attempt("192.0.2.55, 198.51.100.1") == 429
    # ... while another client behind the same proxy is counted apart.
    assert attempt("198.51.100.2") == 400


@pytest.mark.parametrize(("remote", "secure"), [("10.0.0.2", True), ("203.0.113.9", False)])
def test_the_forwarded_scheme_is_believed_only_from_a_trusted_proxy(
    client, settings, remote, secure
):
    """A client that sent X-Forwarded-Proto: https straight to a web process got HSTS and
    "secure" requests over plain HTTP."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response.wsgi_request.is_secure() is secure
    assert ("Strict-Transport-Security" in response.headers) is secure

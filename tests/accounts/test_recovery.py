"""Resetting a forgotten password by email."""

import re

import pytest
from django.core import mail

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-passphrase-for-maya"


def _link(message) -> str:
    [link] = re.findall(r"https?://\S+", message.body)
    return link


def test_a_reset_link_goes_to_the_address_and_sets_a_new_password(client, settings):
    settings.SITE_URL = "https://audio.example.org/"
    maya = UserFactory(username="maya", email="maya@example.org")
    response = client.post("/accounts/password/reset/", {"email": "Maya@Example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    [message] = mail.outbox
    assert message.to == ["maya@example.org"]
    assert message.subject == "Reset your Roundtable password"
    link = _link(message)
    # The site's own address, whatever Host the request came with.
    assert link.startswith("https://audio.example.org/accounts/password/reset/")

    opened = client.get(link.removeprefix("https://audio.example.org"), follow=True)
    assert opened.status_code == 200
    assert opened.context["validlink"] is True
    form_url = opened.redirect_chain[-1][0]
    changed = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert changed.status_code == 302
    assert changed["Location"] == "/accounts/login/"
    maya.refresh_from_db()
    assert maya.check_password(NEW_PASSWORD)
    assert not maya.check_password(PASSWORD)
    # The link works once.
    again = client.get(link.removeprefix("https://audio.example.org"), follow=True)
    assert again.context["validlink"] is False
    assert b"This link does not work" in again.content


def test_an_unknown_address_looks_the_same_and_sends_nothing(client):
    UserFactory(email="maya@example.org")
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_a_malformed_address_is_refused_with_a_reason(client):
    response = client.post("/accounts/password/reset/", {"email": "not an address"})
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    assert mail.outbox == []


def test_a_weak_new_password_is_refused(client, settings):
    maya = UserFactory(email="maya@example.org")
    client.post("/accounts/password/reset/", {"email": "maya@example.org"})
    opened = client.get(
        _link(mail.outbox[0]).removeprefix(settings.SITE_URL.rstrip("/")), follow=True
    )
    form_url = opened.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 400
    maya.refresh_from_db()
    assert maya.check_password(PASSWORD)


def test_reset_requests_are_throttled_per_address(client):
    """The sign-in budget (10 a minute per address): each request may send an email."""
    UserFactory(email="maya@example.org")
    statuses = [
        client.post("/accounts/password/reset/", {"email": "maya@example.org"}).status_code
        for _ in range(11)
    ]
    assert statuses == [302] * 10 + [429]
    assert len(mail.outbox) == 10


def test_the_sign_in_page_offers_the_reset(client):
    response = client.get("/accounts/login/")
    assert b'href="/accounts/password/reset/"' in response.content


# --- Changing the address --------------------------------------------------------------


def _confirmation_path(settings) -> str:
    [message] = [m for m in mail.outbox if m.subject == "Confirm your new Roundtable address"]
    return _link(message).removeprefix(settings.SITE_URL.rstrip("/"))


def test_a_new_address_is_used_only_once_confirmed(
    client, settings, django_capture_on_commit_callbacks
):
    maya = UserFactory(username="maya", email="old@example.org")
    client.force_login(maya)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/profile/",
            {"display_name": "Maya", "bio": "", "email": "new@example.org"},
            follow=True,
        )
    assert b"We sent a link to new@example.org" in response.content
    maya.refresh_from_db()
    assert maya.email == "old@example.org"
    [message] = mail.outbox
    assert message.to == ["new@example.org"]
    path = _confirmation_path(settings)

    # Opening the link asks first: a mail scanner fetching it confirms nothing.
    assert client.get(path).status_code == 200
    maya.refresh_from_db()
    assert maya.email == "old@example.org"

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(path)
    assert confirmed.status_code == 302
    maya.refresh_from_db()
    assert maya.email == "new@example.org"
    [notice] = [m for m in mail.outbox if m.to == ["old@example.org"]]
    assert "new@example.org" in notice.body

    # Used once: the address it replaces is gone, so the link no longer works.
    again = client.post(path)
    assert again.status_code == 400
    assert b"does not work any more" in again.content


def test_a_tampered_or_expired_link_changes_nothing(
    client, settings, django_capture_on_commit_callbacks
):
    maya = UserFactory(email="old@example.org")
    client.force_login(maya)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/profile/", {"display_name": "", "bio": "", "email": "new@example.org"}
        )
    path = _confirmation_path(settings)
    assert client.post(path[:-3] + "xyz/").status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.post(path).status_code == 400
    maya.refresh_from_db()
    assert maya.email == "old@example.org"


def test_removing_the_address_needs_no_confirmation(client):
    maya = UserFactory(email="old@example.org")
    client.force_login(maya)
    client.post("/accounts/profile/", {"display_name": "", "bio": "", "email": ""})
    maya.refresh_from_db()
    assert maya.email == ""
    assert mail.outbox == []


def test_the_api_says_a_confirmation_was_sent(
    authed_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = authed_client.patch("/api/me/", {"email": "fresh@example.org"}, format="json")
    assert response.status_code == 200
    assert response.json()["email_confirmation_sent"] is True
    assert response.json()["email"] == user.email
    assert [m.to for m in mail.outbox] == [["fresh@example.org"]]
    unchanged = authed_client.patch("/api/me/", {"bio": "hi"}, format="json")
    assert unchanged.json()["email_confirmation_sent"] is False

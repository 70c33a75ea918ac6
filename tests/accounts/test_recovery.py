"""Resetting a forgotten password by email, and the address it goes to."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-passphrase-for-maya"


def _link(message) -> str:
    [link] = re.findall(r"https?://\S+", message.body)
    return link


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Asks for a reset as the page does; the mail goes out once the request is done (from
    the worker, here run in the test's process)."""

    def ask(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/accounts/password/reset/", {"email": email})

    return ask


def test_a_reset_link_goes_to_the_address_and_sets_a_new_password(client, settings, ask):
    settings.SITE_URL = "https://audio.example.org/"
    maya = UserFactory(username="maya", email="maya@example.org")
    response = ask("Maya@Example.org")
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


def test_an_unknown_address_looks_the_same_and_sends_nothing(ask):
    UserFactory(email="maya@example.org")
    response = ask("nobody@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_a_malformed_address_is_refused_with_a_reason(client):
    response = client.post("/accounts/password/reset/", {"email": "not an address"})
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    assert mail.outbox == []


def test_a_weak_new_password_is_refused(client, settings, ask):
    maya = UserFactory(email="maya@example.org")
    ask("maya@example.org")
    opened = client.get(
        _link(mail.outbox[0]).removeprefix(settings.SITE_URL.rstrip("/")), follow=True
    )
    form_url = opened.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 400
    maya.refresh_from_db()
    assert maya.check_password(PASSWORD)


def test_reset_requests_are_throttled_per_address(ask):
    """The sign-in budget (10 a minute per address): each request may send an email."""
    UserFactory(email="maya@example.org")
    statuses = [ask("maya@example.org").status_code for _ in range(11)]
    assert statuses == [302] * 10 + [429]
    assert len(mail.outbox) == 10


def test_the_answer_does_the_same_work_whether_the_address_has_an_account_or_not(
    client, django_capture_on_commit_callbacks
):
    """An address with an account was answered in about 40 ms, one without in 26: the mail
    is now the worker's, and the request itself runs the same queries either way."""
    UserFactory(email="maya@example.org")
    done = []
    for email in ("maya@example.org", "nobody@example.org"):
        with (
            django_capture_on_commit_callbacks(execute=False) as later,
            CaptureQueriesContext(connection) as queries,
        ):
            assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302
        done.append(([q["sql"] for q in queries.captured_queries], len(later)))
    assert done[0] == done[1]
    assert mail.outbox == []


@pytest.mark.parametrize("restriction", ["suspended", "banned"])
def test_a_suspended_or_banned_account_gets_no_reset(ask, restriction):
    fields = (
        {"suspended_until": timezone.now() + timedelta(days=1)}
        if restriction == "suspended"
        else {"banned_at": timezone.now()}
    )
    UserFactory(email="maya@example.org", **fields)
    assert ask("maya@example.org").status_code == 302
    assert mail.outbox == []


def test_the_sign_in_page_offers_the_reset(client):
    response = client.get("/accounts/login/")
    assert b'href="/accounts/password/reset/"' in response.content


# --- Changing the address --------------------------------------------------------------


def _confirmation_path(settings) -> str:
    [message] = [m for m in mail.outbox if m.subject == "Confirm your Roundtable address"]
    return _link(message).removeprefix(settings.SITE_URL.rstrip("/"))


def test_a_new_address_is_used_only_once_confirmed(
    client, settings, django_capture_on_commit_callbacks
):
    maya = UserFactory(username="maya", email="old@example.org")
    client.force_login(maya)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/profile/",
            {
                "display_name": "Maya",
                "bio": "",
                "email": "new@example.org",
                "current_password": PASSWORD,
            },
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
            "/accounts/profile/",
            {
                "display_name": "",
                "bio": "",
                "email": "new@example.org",
                "current_password": PASSWORD,
            },
        )
    path = _confirmation_path(settings)
    assert client.post(path[:-3] + "xyz/").status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.post(path).status_code == 400
    maya.refresh_from_db()
    assert maya.email == "old@example.org"


def test_removing_the_address_needs_no_confirmation_but_the_password(client):
    maya = UserFactory(email="old@example.org", display_name="")
    client.force_login(maya)
    form = {"display_name": "Changed", "bio": "", "email": ""}
    refused = client.post("/accounts/profile/", form)
    assert refused.status_code == 400
    assert b"Give your current password to change your address." in refused.content
    maya.refresh_from_db()
    # Nothing of the form was saved, the name neither.
    assert (maya.email, maya.display_name) == ("old@example.org", "")
    client.post("/accounts/profile/", {**form, "current_password": PASSWORD})
    maya.refresh_from_db()
    assert (maya.email, maya.display_name) == ("", "Changed")
    assert mail.outbox == []


def test_the_api_says_a_confirmation_was_sent(
    authed_client, user, django_capture_on_commit_callbacks
):
    wrong = authed_client.patch(
        "/api/me/", {"email": "fresh@example.org", "bio": "new", "password": "wrong"}, format="json"
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "wrong_password")
    user.refresh_from_db()
    assert user.bio == ""
    with django_capture_on_commit_callbacks(execute=True):
        response = authed_client.patch(
            "/api/me/", {"email": "fresh@example.org", "password": PASSWORD}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["email_confirmation_sent"] is True
    assert response.json()["email"] == user.email
    assert [m.to for m in mail.outbox] == [["fresh@example.org"]]
    unchanged = authed_client.patch("/api/me/", {"bio": "hi"}, format="json")
    assert unchanged.json()["email_confirmation_sent"] is False


def _change(client, email, capture):
    with capture(execute=True):
        client.post(
            "/accounts/profile/",
            {"display_name": "", "bio": "", "email": email, "current_password": PASSWORD},
        )
    [message] = [m for m in mail.outbox if m.to[0].lower() == email.lower()][-1:]
    return _link(message)


def test_an_old_link_cannot_be_replayed_after_the_address_changed_back(
    client, settings, django_capture_on_commit_callbacks
):
    """A→B confirmed, B→A confirmed, then the first link again: it used to make it B."""
    capture = django_capture_on_commit_callbacks
    site = settings.SITE_URL.rstrip("/")
    maya = UserFactory(email="a@example.org")
    client.force_login(maya)
    to_b = _change(client, "b@example.org", capture).removeprefix(site)
    assert client.post(to_b).status_code == 302
    to_a = _change(client, "a@example.org", capture).removeprefix(site)
    assert client.post(to_a).status_code == 302
    maya.refresh_from_db()
    assert maya.email == "a@example.org"
    replayed = client.post(to_b)
    assert replayed.status_code == 400
    maya.refresh_from_db()
    assert maya.email == "a@example.org"


def test_a_sign_up_s_address_is_the_account_s_once_confirmed(
    api_client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/auth/signup/",
            {"username": "maya", "password": NEW_PASSWORD, "email": "Maya@Example.org"},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["email_confirmation_sent"] is True
    assert response.json()["user"]["email"] == ""
    maya = User.objects.get(username="maya")
    assert maya.email == ""
    # No reset reaches an address that is not confirmed.
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/accounts/password/reset/", {"email": "maya@example.org"})
    [confirmation] = mail.outbox
    assert confirmation.subject == "Confirm your Roundtable address"
    assert (
        api_client.post(_link(confirmation).removeprefix(settings.SITE_URL.rstrip("/"))).status_code
        == 302
    )
    maya.refresh_from_db()
    assert maya.email == "Maya@example.org"


def test_an_address_is_one_account_s_whatever_its_case(
    client, settings, django_capture_on_commit_callbacks
):
    UserFactory(email="taken@example.org")
    maya = UserFactory(email="")
    client.force_login(maya)
    link = _change(client, "Taken@Example.org", django_capture_on_commit_callbacks)
    response = client.post(link.removeprefix(settings.SITE_URL.rstrip("/")))
    assert response.status_code == 400
    assert b"Another account has confirmed this address since" in response.content
    maya.refresh_from_db()
    assert maya.email == ""
    with pytest.raises(IntegrityError):
        UserFactory(email="TAKEN@example.org")

"""Suspensions and bans: who may impose them, what they lock, how they end, what they log."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services.tokens import api_token_create
from core.errors import ApplicationError
from moderation.models import ModerationLog
from moderation.services.restrictions import user_ban, user_reinstate, user_suspend
from rooms.services.lifecycle import room_create
from tests.factories import PASSWORD, UserFactory, make_moderator
from tests.rooms.factories import member
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db

Action = ModerationLog.Action


@pytest.fixture
def moderator():
    return make_moderator(username="mod")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _suspend(moderator, user, days=3, reason="Spamming rooms."):
    return user_suspend(actor=moderator, user=user, duration=timedelta(days=days), reason=reason)


# --- imposing ---------------------------------------------------------------------------


def test_a_suspension_locks_the_account_until_its_end_and_is_logged(moderator, user):
    before = timezone.now()
    _suspend(moderator, user)
    user.refresh_from_db()
    assert before + timedelta(days=3) <= user.suspended_until <= timezone.now() + timedelta(days=3)
    assert user.restriction().startswith("Your account is suspended until ")
    assert user.restriction().endswith("Reason: Spamming rooms.")
    (row,) = ModerationLog.objects.all()
    assert (row.action, row.actor, row.target, row.room) == (Action.SUSPEND, moderator, user, None)
    assert "Spamming rooms." in row.note


def test_a_long_reason_is_kept_whole_and_shortened_in_the_log(moderator, user):
    reason = "x" * 500
    _suspend(moderator, user, reason=reason)
    user.refresh_from_db()
    assert user.restriction_reason == reason
    note = ModerationLog.objects.get().note
    assert len(note) == 500
    assert note.endswith("…")


def test_a_suspension_ends_by_itself(moderator, user):
    _suspend(moderator, user)
    later = timezone.now() + timedelta(days=3, minutes=1)
    user.refresh_from_db()
    assert user.restriction(later) is None


def test_a_new_suspension_replaces_the_running_one(moderator, user):
    _suspend(moderator, user, days=30)
    _suspend(moderator, user, days=1, reason="Shorter after all.")
    user.refresh_from_db()
    assert user.suspended_until < timezone.now() + timedelta(days=2)
    assert user.restriction_reason == "Shorter after all."


def test_a_ban_has_no_end(moderator, user):
    user_ban(actor=moderator, user=user, reason="Hate speech.")
    user.refresh_from_db()
    assert user.restriction(timezone.now() + timedelta(days=3650)) == (
        "Your account is banned from Roundtable. Reason: Hate speech."
    )
    assert ModerationLog.objects.get().action == Action.BAN


def test_lifting_a_suspension_or_a_ban_is_logged_by_kind(moderator, user):
    other = UserFactory()
    _suspend(moderator, user)
    user_ban(actor=moderator, user=other, reason="Spam.")
    user_reinstate(actor=moderator, user=user)
    user_reinstate(actor=moderator, user=other, note="Appeal accepted.")
    for person in (user, other):
        person.refresh_from_db()
        assert person.restriction() is None
        assert (person.suspended_until, person.banned_at, person.restriction_reason) == (
            None,
            None,
            "",
        )
    lifted = ModerationLog.objects.filter(action__in=[Action.UNSUSPEND, Action.UNBAN])
    assert {(row.action, row.target, row.note) for row in lifted} == {
        (Action.UNSUSPEND, user, ""),
        (Action.UNBAN, other, "Appeal accepted."),
    }


def test_lifting_needs_something_to_lift(moderator, user):
    with pytest.raises(ApplicationError) as raised:
        user_reinstate(actor=moderator, user=user)
    assert raised.value.status == 409


@pytest.mark.parametrize(
    ("duration", "reason"),
    [(timedelta(0), "x"), (timedelta(days=400), "x"), (timedelta(days=1), "   ")],
)
def test_a_suspension_needs_a_sane_length_and_a_reason(moderator, user, duration, reason):
    with pytest.raises(ApplicationError):
        user_suspend(actor=moderator, user=user, duration=duration, reason=reason)
    user.refresh_from_db()
    assert user.suspended_until is None
    assert not ModerationLog.objects.exists()


def test_people_without_the_permission_cannot_suspend(user):
    for actor in (UserFactory(), UserFactory(is_staff=True)):
        with pytest.raises(ApplicationError) as raised:
            _suspend(actor, user)
        assert raised.value.status == 403
    user.refresh_from_db()
    assert user.suspended_until is None


def test_staff_cannot_suspend_themselves(moderator):
    with pytest.raises(ApplicationError) as raised:
        _suspend(moderator, moderator)
    assert raised.value.code == "self_restrict"


def test_only_a_superuser_suspends_or_bans_staff(moderator):
    colleague = UserFactory(is_staff=True)
    with pytest.raises(ApplicationError) as raised:
        user_ban(actor=moderator, user=colleague, reason="Disagreement.")
    assert raised.value.status == 403
    root = UserFactory(is_staff=True, is_superuser=True)
    user_ban(actor=root, user=colleague, reason="Abused the console.")
    colleague.refresh_from_db()
    assert colleague.is_banned


# --- every socket closes ------------------------------------------------------------------


def test_suspending_tells_every_socket_of_the_person_to_close(moderator, user, listen, commit):
    sockets = listen(f"user.{user.pk}")
    bystander = listen(f"user.{moderator.pk}")
    with commit():
        _suspend(moderator, user)
    (message,) = sockets.messages()
    user.refresh_from_db()
    assert message == {"type": "user.disconnect", "code": 4403, "reason": user.restriction()}
    assert bystander.messages(wait=0.1) == []


def test_banning_tells_every_socket_too_and_lifting_does_not(moderator, user, listen, commit):
    sockets = listen(f"user.{user.pk}")
    with commit():
        user_ban(actor=moderator, user=user, reason="Spam.")
    assert [m["type"] for m in sockets.messages()] == ["user.disconnect"]
    with commit():
        user_reinstate(actor=moderator, user=user)
    assert sockets.messages(wait=0.1) == []


def test_the_person_s_room_connections_hear_it_on_their_own_channels(
    moderator, user, listen, commit
):
    # Room sockets join no group of the person's: each member row names its connection.
    here, there = listen(), listen()
    member(room_create(host=UserFactory(), title="One"), user, channel=here.channel)
    member(room_create(host=UserFactory(), title="Two"), user, channel=there.channel)
    member(room_create(host=UserFactory(), title="Gone"), user, channel="")  # stage seat kept
    someone_else = listen()
    member(room_create(host=UserFactory(), title="Three"), moderator, channel=someone_else.channel)
    with commit():
        user_ban(actor=moderator, user=user, reason="Spam.")
    user.refresh_from_db()
    expected = {"type": "user.disconnect", "code": 4403, "reason": user.restriction()}
    assert here.messages() == [expected]
    assert there.messages() == [expected]
    assert someone_else.messages(wait=0.1) == []


def test_nothing_is_sent_when_the_suspension_is_refused(moderator, listen, commit):
    colleague = UserFactory(is_staff=True)
    sockets = listen(f"user.{colleague.pk}")
    with commit(), pytest.raises(ApplicationError):
        _suspend(moderator, colleague)
    assert sockets.messages(wait=0.1) == []


# --- signing in and staying signed in -------------------------------------------------------


def test_a_suspended_person_cannot_sign_in_and_is_told_why(moderator, client, user):
    _suspend(moderator, user, reason="Spamming rooms.")
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Your account is suspended until" in html
    assert "Spamming rooms." in html
    assert not get_user(client).is_authenticated


def test_the_reason_is_shown_only_to_someone_with_the_password(moderator, client, user):
    _suspend(moderator, user, reason="Spamming rooms.")
    response = client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 400
    assert "Spamming rooms." not in response.content.decode()


def test_a_session_stops_working_when_its_account_is_suspended(moderator, user):
    client = Client()
    client.force_login(user)
    assert get_user(client).is_authenticated
    _suspend(moderator, user)
    assert not get_user(client).is_authenticated
    assert client.get("/api/me/").status_code in (401, 403)


def test_a_suspended_person_gets_no_token_and_is_told_why(moderator, api_client, user):
    _suspend(moderator, user, reason="Spamming rooms.")
    response = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "account_restricted"
    assert "Spamming rooms." in error["message"]


def test_an_existing_token_is_refused_while_suspended(moderator, user):
    _, key = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/me/").status_code == 200
    user_ban(actor=moderator, user=user, reason="Spam.")
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert error_of(response)["message"] == "Your account is banned from Roundtable. Reason: Spam."


def test_everything_works_again_once_a_suspension_is_over(moderator, user):
    _, key = api_token_create(user=user)
    _suspend(moderator, user)
    type(user).objects.filter(pk=user.pk).update(
        suspended_until=timezone.now() - timedelta(seconds=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/me/").status_code == 200
    assert Client().login(username=user.username, password=PASSWORD)

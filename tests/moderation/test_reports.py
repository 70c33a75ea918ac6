"""Reports: the API and the profile's form, merging, throttling, and staff handling them."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from core.errors import ApplicationError
from moderation.models import ModerationLog, Report
from moderation.services.reports import report_create, report_dismiss, report_resolve
from replays.models import Replay
from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, make_moderator
from tests.replays.factories import recorded_room
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db

REPORT_LIMIT = 20  # THROTTLE_REPORTS' default: per person per hour


@pytest.fixture
def troll():
    return UserFactory(username="troll")


@pytest.fixture
def room(troll):
    return room_create(host=troll, title="Loud room")


@pytest.fixture
def moderator():
    return make_moderator(username="mod")


# --- the API ------------------------------------------------------------------------------


def test_report_a_person(authed_client, user, troll):
    response = authed_client.post(
        "/api/reports/",
        {"user": "TROLL", "reason": "harassment", "text": "Shouted at me."},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "troll"
    assert (body["room"], body["reason"], body["status"], body["times"]) == (
        None,
        "harassment",
        "open",
        1,
    )
    report = Report.objects.get()
    assert (report.reporter, report.reported_user, report.text) == (user, troll, "Shouted at me.")


def test_report_a_room(authed_client, room):
    response = authed_client.post(
        "/api/reports/", {"room": str(room.pk), "reason": "hate"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["room"] == str(room.pk)
    assert Report.objects.get().reported_room == room


def test_report_a_person_in_a_room(authed_client, room, troll):
    response = authed_client.post(
        "/api/reports/", {"user": "troll", "room": str(room.pk), "reason": "spam"}, format="json"
    )
    assert response.status_code == 201
    report = Report.objects.get()
    assert (report.reported_user, report.reported_room) == (troll, room)


@pytest.fixture
def replayed(troll):
    """An ended room of the troll's with a ready replay of two minutes."""
    room = recorded_room(troll, title="Loud replay")
    Replay.objects.create(room=room, status=Replay.Status.READY, duration=120.0)
    return room


def test_report_a_moment_of_a_replay(authed_client, replayed, moderator, client):
    response = authed_client.post(
        "/api/reports/",
        {"room": str(replayed.pk), "replay_at": 65.5, "reason": "hate"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["replay_at"] == 65.5
    report = Report.objects.get()
    assert (report.reported_room, report.replay_at) == (replayed, 65.5)
    # A second report of the room names a later moment: the report keeps the latest.
    authed_client.post(
        "/api/reports/",
        {"room": str(replayed.pk), "replay_at": 90, "reason": "hate"},
        format="json",
    )
    report.refresh_from_db()
    assert (report.times, report.replay_at) == (2, 90.0)
    # Staff open the replay at that moment from the report.
    client.force_login(moderator)
    page = client.get(f"/admin/moderation/report/{report.pk}/change/").content.decode()
    assert f'href="/rooms/{replayed.pk}/replay/?t=90"' in page
    assert ">1:30</a>" in page


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"replay_at": 121}, 422, "invalid"),  # past the replay's end
        ({"replay_at": -1}, 400, "invalid"),
        ({"replay_at": 5, "room": None, "user": "troll"}, 422, "invalid"),  # needs its room
    ],
)
def test_a_moment_must_be_one_of_the_rooms_replay(authed_client, replayed, payload, status, code):
    body = {"room": str(replayed.pk), "reason": "spam", **payload}
    body = {key: value for key, value in body.items() if value is not None}
    response = authed_client.post("/api/reports/", body, format="json")
    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert not Report.objects.exists()


def test_a_room_without_a_ready_replay_has_no_moment_to_report(authed_client, room):
    response = authed_client.post(
        "/api/reports/", {"room": str(room.pk), "replay_at": 3, "reason": "spam"}, format="json"
    )
    assert response.status_code == 404
    assert not Report.objects.exists()


def test_repeated_reports_of_one_target_merge(authed_client, troll):
    first = authed_client.post(
        "/api/reports/", {"user": "troll", "reason": "spam", "text": "Links."}, format="json"
    )
    again = authed_client.post(
        "/api/reports/",
        {"user": "troll", "reason": "harassment", "text": "Now insults."},
        format="json",
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    report = Report.objects.get()
    assert (report.times, report.reason) == (2, "harassment")
    assert report.text == "Links.\n\nNow insults."


def test_reports_of_other_targets_or_by_other_people_do_not_merge(authed_client, user, troll, room):
    for payload in (
        {"user": "troll"},
        {"room": str(room.pk)},
        {"user": "troll", "room": str(room.pk)},
    ):
        response = authed_client.post("/api/reports/", {**payload, "reason": "spam"}, format="json")
        assert response.status_code == 201
    report_create(reporter=UserFactory(), user=troll, reason="spam")
    assert Report.objects.count() == 4


def test_a_new_report_after_staff_handled_the_old_one_is_a_new_report(
    authed_client, troll, moderator
):
    old = authed_client.post("/api/reports/", {"user": "troll", "reason": "spam"}, format="json")
    report_dismiss(actor=moderator, report_id=old.json()["id"])
    new = authed_client.post("/api/reports/", {"user": "troll", "reason": "spam"}, format="json")
    assert new.status_code == 201
    assert new.json()["id"] != old.json()["id"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"reason": "spam"}, 422, "no_target"),
        ({"user": "troll", "reason": "rude"}, 400, "invalid"),
        ({"user": "troll"}, 400, "invalid"),
        ({"user": "nobody", "reason": "spam"}, 404, "not_found"),
        ({"room": "not-a-uuid", "reason": "spam"}, 400, "invalid"),
        ({"room": "00000000-0000-4000-8000-000000000000", "reason": "spam"}, 404, "not_found"),
        ({"user": "troll", "reason": "spam", "text": "x" * 1001}, 400, "invalid"),
    ],
)
def test_bad_reports_are_refused_with_a_reason(authed_client, troll, payload, status, code):
    response = authed_client.post("/api/reports/", payload, format="json")
    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert not Report.objects.exists()


def test_you_cannot_report_yourself(authed_client, user):
    response = authed_client.post(
        "/api/reports/", {"user": user.username, "reason": "spam"}, format="json"
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "self_report"


def test_rooms_closed_to_you_cannot_be_reported(authed_client, troll):
    closed = room_create(host=troll, title="Secret", visibility=Room.Visibility.CLOSED)
    response = authed_client.post(
        "/api/reports/", {"room": str(closed.pk), "reason": "spam"}, format="json"
    )
    assert response.status_code == 404
    assert not Report.objects.exists()


def test_reports_need_a_signed_in_person(api_client, troll):
    response = api_client.post("/api/reports/", {"user": "troll", "reason": "spam"}, format="json")
    assert response.status_code == 401


def test_reports_are_throttled_per_person(authed_client, troll):
    for _ in range(REPORT_LIMIT):
        response = authed_client.post(
            "/api/reports/", {"user": "troll", "reason": "spam"}, format="json"
        )
        assert response.status_code in (200, 201)
    response = authed_client.post(
        "/api/reports/", {"user": "troll", "reason": "spam"}, format="json"
    )
    assert response.status_code == 429
    assert error_of(response)["code"] == "throttled"
    assert Report.objects.get().times == REPORT_LIMIT
    other = UserFactory()
    authed_client.force_authenticate(user=other)
    response = authed_client.post(
        "/api/reports/", {"user": "troll", "reason": "spam"}, format="json"
    )
    assert response.status_code == 201


# --- the profile's form -------------------------------------------------------------------


def test_the_profile_menu_links_to_the_report_form(client, user, troll):
    client.force_login(user)
    html = client.get("/u/troll/").content.decode()
    assert 'href="/u/troll/report/"' in html
    form = client.get("/u/troll/report/")
    assert form.status_code == 200
    assert "Harassment or bullying" in form.content.decode()


def test_reporting_from_the_profile(client, user, troll):
    client.force_login(user)
    response = client.post(
        "/u/troll/report/", {"reason": "impersonation", "text": "Pretends to be me."}, follow=True
    )
    assert response.redirect_chain == [("/u/troll/", 302)]
    assert "Site staff will look at your report about @troll." in response.content.decode()
    report = Report.objects.get()
    assert (report.reporter, report.reported_user, report.reason) == (user, troll, "impersonation")


def test_the_report_form_explains_what_is_missing(client, user, troll):
    client.force_login(user)
    response = client.post("/u/troll/report/", {"text": "No reason given."})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Report.objects.exists()


def test_the_report_form_is_throttled_with_the_api(client, authed_client, user, troll):
    for _ in range(REPORT_LIMIT):
        authed_client.post("/api/reports/", {"user": "troll", "reason": "spam"}, format="json")
    client.force_login(user)
    response = client.post("/u/troll/report/", {"reason": "spam"})
    assert response.status_code == 429
    assert "You sent many reports lately." in response.content.decode()


def test_the_report_form_needs_a_signed_in_person_and_a_real_other_person(client, user):
    assert client.get("/u/troll/report/").status_code == 302
    client.force_login(user)
    assert client.get("/u/nobody/report/").status_code == 404
    mine = client.get(f"/u/{user.username}/report/", follow=True)
    assert "You cannot report yourself." in mine.content.decode()


# --- staff handle them --------------------------------------------------------------------


def test_resolving_and_dismissing_record_who_and_log_it(moderator, user, troll, room):
    about_troll, _ = report_create(reporter=user, user=troll, reason="spam")
    about_room, _ = report_create(reporter=user, room_id=room.pk, reason="hate")
    report_resolve(actor=moderator, report_id=about_troll.pk, note="Warned them.")
    report_dismiss(actor=moderator, report_id=about_room.pk)
    about_troll.refresh_from_db()
    about_room.refresh_from_db()
    assert (about_troll.status, about_troll.handled_by, about_troll.staff_note) == (
        "resolved",
        moderator,
        "Warned them.",
    )
    assert about_troll.handled_at is not None
    assert (about_room.status, about_room.handled_by) == ("dismissed", moderator)
    rows = {row.action: row for row in ModerationLog.objects.all()}
    resolved = rows[ModerationLog.Action.REPORT_RESOLVED]
    assert (resolved.actor, resolved.target, resolved.room) == (moderator, troll, None)
    assert resolved.note == f"Report #{about_troll.pk} (spam): Warned them."
    dismissed = rows[ModerationLog.Action.REPORT_DISMISSED]
    assert (dismissed.target, dismissed.room) == (None, room)


def test_a_report_is_handled_once(moderator, user, troll):
    report, _ = report_create(reporter=user, user=troll, reason="spam")
    report_resolve(actor=moderator, report_id=report.pk)
    with pytest.raises(ApplicationError) as raised:
        report_dismiss(actor=moderator, report_id=report.pk)
    assert raised.value.status == 409


def test_only_staff_with_the_permission_handle_reports(user, troll):
    report, _ = report_create(reporter=user, user=troll, reason="spam")
    for actor in (troll, UserFactory(is_staff=True)):
        with pytest.raises(ApplicationError) as raised:
            report_resolve(actor=actor, report_id=report.pk)
        assert raised.value.status == 403
    report.refresh_from_db()
    assert report.is_open
    assert not ModerationLog.objects.exists()


def test_the_report_dialog_offers_every_reason_and_only_those():
    """templates/_report_dialog.html writes the reasons out; they are Report.Reason's."""
    page = (Path(settings.BASE_DIR) / "templates" / "_report_dialog.html").read_text()
    assert re.findall(r'<option value="(\w+)">', page) == list(Report.Reason.values)

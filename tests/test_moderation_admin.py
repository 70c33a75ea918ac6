"""The admin as the moderation console: every staff action through Django's test client,
and what the Moderators group may and may not do."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from moderation.models import ModerationLog, Report
from moderation.services.reports import report_create
from moderation.services.restrictions import user_suspend
from rooms.models import Room, RoomBan, RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, make_moderator, moderators_group
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Action = ModerationLog.Action


@pytest.fixture
def moderator():
    return make_moderator(username="mod")


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def troll():
    return UserFactory(username="troll", display_name="Bridge Dweller")


@pytest.fixture
def reporter():
    return UserFactory(username="reporter")


@pytest.fixture
def room(troll):
    return room_create(host=UserFactory(username="roomhost"), title="Shouting match")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the Moderators group ---------------------------------------------------------------------


def test_the_moderators_group_holds_just_what_moderation_needs():
    codenames = set(
        Group.objects.get(name="Moderators").permissions.values_list(
            "content_type__app_label", "codename"
        )
    )
    assert codenames == {
        ("accounts", "view_user"),
        ("accounts", "change_user"),
        ("accounts", "suspend_user"),
        ("moderation", "view_report"),
        ("moderation", "change_report"),
        ("follows", "view_follow"),
        ("follows", "view_block"),
        ("follows", "view_club"),
        ("follows", "view_clubmembership"),
        ("follows", "view_clubfollow"),
        ("follows", "view_clubban"),
        ("rooms", "view_room"),
        ("rooms", "moderate_room"),
        ("rooms", "view_roommember"),
        ("rooms", "view_roomban"),
        ("rooms", "view_roomrsvp"),
        ("moderation", "view_moderationlog"),
        ("chat", "view_message"),
        ("chat", "view_chatmute"),
        ("replays", "view_transcriptsegment"),
    }
    assert not any(codename.startswith("delete_") for _, codename in codenames)


def test_moderators_cannot_change_passwords(mod_client, troll):
    assert mod_client.get(f"/admin/accounts/user/{troll.pk}/password/").status_code == 403
    page = mod_client.get(f"/admin/accounts/user/{troll.pk}/change/").content.decode()
    assert "/password/" not in page.split('id="content"')[1].split("</form>")[0]


def test_moderators_cannot_grant_staff_rights_or_groups(mod_client, troll):
    response = mod_client.post(
        f"/admin/accounts/user/{troll.pk}/change/",
        {
            "username": "troll",
            "display_name": "Renamed",
            "email": "",
            "bio": "",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [moderators_group().pk],
            "reports_received-TOTAL_FORMS": "0",
            "reports_received-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    troll.refresh_from_db()
    assert troll.display_name == "Renamed"
    assert not troll.is_staff
    assert not troll.is_superuser
    assert not troll.groups.exists()


def test_moderators_cannot_edit_staff_accounts(mod_client):
    root = UserFactory(is_staff=True, is_superuser=True, display_name="Root")
    response = mod_client.post(
        f"/admin/accounts/user/{root.pk}/change/", {"username": root.username, "display_name": "x"}
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.display_name == "Root"


def test_moderators_cannot_delete_history(mod_client, troll, reporter, moderator):
    report, _ = report_create(reporter=reporter, user=troll, reason="spam")
    user_suspend(actor=moderator, user=troll, duration=timedelta(days=1), reason="Spam.")
    log = ModerationLog.objects.get()
    for path in (
        f"/admin/accounts/user/{troll.pk}/delete/",
        f"/admin/moderation/report/{report.pk}/delete/",
        f"/admin/moderation/moderationlog/{log.pk}/delete/",
    ):
        assert mod_client.post(path, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=troll.pk).exists()
    assert Report.objects.filter(pk=report.pk).exists()
    assert ModerationLog.objects.filter(pk=log.pk).exists()


def test_moderators_cannot_reach_groups(mod_client):
    assert mod_client.get("/admin/auth/group/").status_code == 403


def test_staff_outside_the_group_see_no_moderation(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get("/admin/moderation/report/").status_code == 403
    assert "Open reports" not in client.get("/admin/").content.decode()


# --- people ---------------------------------------------------------------------------------


def test_people_are_found_by_username_email_or_display_name(mod_client, troll):
    UserFactory(username="nice")
    for term in ("trol", "troll@example", "Bridge"):
        page = mod_client.get("/admin/accounts/user/", {"q": term})
        assert [u.username for u in page.context["cl"].result_list] == ["troll"]


def test_people_filter_by_suspension_ban_and_open_reports(mod_client, moderator, troll, reporter):
    banned = UserFactory(username="banned_one", banned_at=timezone.now())
    UserFactory(username="expired", suspended_until=timezone.now() - timedelta(days=1))
    user_suspend(actor=moderator, user=troll, duration=timedelta(days=1), reason="Spam.")
    report_create(reporter=reporter, user=banned, reason="spam")

    def usernames(**query):
        page = mod_client.get("/admin/accounts/user/", query)
        return {u.username for u in page.context["cl"].result_list}

    assert usernames(restricted="suspended") == {"troll"}
    assert usernames(restricted="banned") == {"banned_one"}
    assert "expired" in usernames(restricted="no")
    assert usernames(reported="yes") == {"banned_one"}


def test_suspending_from_the_people_list(mod_client, troll, moderator):
    first = mod_client.post(
        "/admin/accounts/user/", {"action": "suspend_users", "_selected_action": [troll.pk]}
    )
    assert first.status_code == 200
    assert "Suspend people" in first.content.decode()
    missing_reason = mod_client.post(
        "/admin/accounts/user/",
        {"action": "suspend_users", "_selected_action": [troll.pk], "duration": "1d", "apply": "1"},
    )
    assert missing_reason.status_code == 200
    assert "This field is required." in missing_reason.content.decode()
    troll.refresh_from_db()
    assert troll.suspended_until is None
    done = mod_client.post(
        "/admin/accounts/user/",
        {
            "action": "suspend_users",
            "_selected_action": [troll.pk],
            "duration": "7d",
            "reason": "Spamming rooms.",
            "apply": "Suspend",
        },
        follow=True,
    )
    assert "Suspended 1 person; their connections are closing." in _messages(done)
    troll.refresh_from_db()
    assert troll.suspended_until > timezone.now() + timedelta(days=6)
    assert troll.restriction_reason == "Spamming rooms."
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target) == (Action.SUSPEND, moderator, troll)


def test_banning_and_lifting_from_the_people_list(mod_client, troll, moderator):
    mod_client.post(
        "/admin/accounts/user/",
        {"action": "ban_users", "_selected_action": [troll.pk], "reason": "Hate.", "apply": "1"},
    )
    troll.refresh_from_db()
    assert troll.is_banned
    done = mod_client.post(
        "/admin/accounts/user/",
        {"action": "reinstate_users", "_selected_action": [troll.pk]},
        follow=True,
    )
    assert "1 person may sign in again." in _messages(done)
    troll.refresh_from_db()
    assert troll.restriction() is None
    assert list(ModerationLog.objects.order_by("created").values_list("action", flat=True)) == [
        Action.BAN,
        Action.UNBAN,
    ]


def test_refusals_are_reported_per_person_and_the_rest_go_through(mod_client, troll):
    colleague = UserFactory(username="colleague", is_staff=True)
    done = mod_client.post(
        "/admin/accounts/user/",
        {
            "action": "ban_users",
            "_selected_action": [troll.pk, colleague.pk],
            "reason": "Spam.",
            "apply": "1",
        },
        follow=True,
    )
    messages = _messages(done)
    assert "@colleague: @colleague is staff: only a superuser can suspend or ban them." in messages
    assert "Banned 1 person; their connections are closing." in messages
    troll.refresh_from_db()
    colleague.refresh_from_db()
    assert (troll.is_banned, colleague.is_banned) == (True, False)


def test_a_persons_page_shows_reports_about_them_and_the_actions(mod_client, troll, reporter, room):
    report_create(reporter=reporter, user=troll, reason="harassment", text="Called me names.")
    page = mod_client.get(f"/admin/accounts/user/{troll.pk}/change/").content.decode()
    assert "Reports about this person" in page
    assert "Called me names." in page
    for action in ("suspend_users", "ban_users", "reinstate_users"):
        assert f'value="{action}"' in page


# --- reports ----------------------------------------------------------------------------------


def test_the_index_shows_the_open_report_count(mod_client, troll, reporter, room):
    report_create(reporter=reporter, user=troll, reason="spam")
    report_create(reporter=reporter, room_id=room.pk, reason="hate")
    page = mod_client.get("/admin/").content.decode()
    assert 'id="open-report-count">2</a>' in page
    assert "/admin/moderation/report/?status__exact=open" in page


def test_the_report_queue_filters_and_searches(mod_client, moderator, troll, reporter, room):
    open_one, _ = report_create(reporter=reporter, user=troll, reason="spam", text="Crypto links")
    done, _ = report_create(reporter=reporter, room_id=room.pk, reason="hate")
    done.status = Report.Status.DISMISSED
    done.save()

    def ids(**query):
        page = mod_client.get("/admin/moderation/report/", query)
        assert page.status_code == 200
        return [r.pk for r in page.context["cl"].result_list]

    assert ids(status__exact="open") == [open_one.pk]
    assert ids(q="crypto") == [open_one.pk]
    assert ids(q="Shouting") == [done.pk]
    assert ids(reason__exact="hate") == [done.pk]


def test_reading_a_report_offers_what_fits_it(mod_client, troll, reporter, room):
    about_person, _ = report_create(reporter=reporter, user=troll, reason="spam", text="Links.")
    page = mod_client.get(f"/admin/moderation/report/{about_person.pk}/change/").content.decode()
    assert "Links." in page
    assert "@troll (Bridge Dweller)" in page
    assert 'value="suspend_reported_users"' in page
    assert 'value="end_reported_rooms"' not in page
    about_room, _ = report_create(reporter=reporter, room_id=room.pk, reason="hate")
    page = mod_client.get(f"/admin/moderation/report/{about_room.pk}/change/").content.decode()
    assert 'value="end_reported_rooms"' in page
    assert 'value="suspend_reported_users"' not in page


def test_staff_keep_a_note_on_a_report_but_cannot_change_its_facts(mod_client, troll, reporter):
    report, _ = report_create(reporter=reporter, user=troll, reason="spam")
    response = mod_client.post(
        f"/admin/moderation/report/{report.pk}/change/",
        {"staff_note": "Looking into it.", "status": "dismissed", "reason": "other"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.staff_note, report.status, report.reason) == ("Looking into it.", "open", "spam")


def test_resolve_and_dismiss_from_the_queue(mod_client, moderator, troll, reporter, room):
    first, _ = report_create(reporter=reporter, user=troll, reason="spam")
    second, _ = report_create(reporter=reporter, room_id=room.pk, reason="hate")
    mod_client.post(
        "/admin/moderation/report/",
        {
            "action": "resolve_reports",
            "_selected_action": [first.pk],
            "note": "Warned.",
            "apply": "1",
        },
    )
    mod_client.post(
        "/admin/moderation/report/",
        {"action": "dismiss_reports", "_selected_action": [second.pk], "note": "", "apply": "1"},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.handled_by, first.staff_note) == ("resolved", moderator, "Warned.")
    assert (second.status, second.handled_by) == ("dismissed", moderator)
    assert set(ModerationLog.objects.values_list("action", flat=True)) == {
        Action.REPORT_RESOLVED,
        Action.REPORT_DISMISSED,
    }


def test_suspend_the_reported_person_from_the_report(mod_client, moderator, troll, reporter):
    report, _ = report_create(reporter=reporter, user=troll, reason="spam")
    other, _ = report_create(reporter=UserFactory(), user=troll, reason="harassment")
    done = mod_client.post(
        "/admin/moderation/report/",
        {
            "action": "suspend_reported_users",
            "_selected_action": [report.pk, other.pk],
            "duration": "3d",
            "reason": "Spamming rooms.",
            "apply": "1",
        },
        follow=True,
    )
    assert "Suspended 1 person; their connections are closing." in _messages(done)
    troll.refresh_from_db()
    assert troll.is_suspended()
    for each in (report, other):
        each.refresh_from_db()
        assert (each.status, each.handled_by) == ("resolved", moderator)
        assert each.staff_note == "Suspended: Spamming rooms."
    actions = list(ModerationLog.objects.values_list("action", flat=True))
    assert sorted(actions) == sorted(
        [Action.SUSPEND, Action.REPORT_RESOLVED, Action.REPORT_RESOLVED]
    )


def test_end_the_reported_room_from_the_report(mod_client, moderator, reporter, room):
    member(room, room.host, RoomMember.Role.MODERATOR)
    report, _ = report_create(reporter=reporter, room_id=room.pk, reason="hate")
    mod_client.post(
        "/admin/moderation/report/",
        {
            "action": "end_reported_rooms",
            "_selected_action": [report.pk],
            "note": "Hate speech.",
            "apply": "1",
        },
    )
    room.refresh_from_db()
    report.refresh_from_db()
    assert room.status == Room.Status.ENDED
    assert report.status == "resolved"
    ended = ModerationLog.objects.get(action=Action.STAFF_END_ROOM)
    assert (ended.actor, ended.room, ended.note) == (moderator, room, "Hate speech.")


def test_reports_are_not_added_by_hand(mod_client):
    assert mod_client.get("/admin/moderation/report/add/").status_code == 403


# --- rooms ----------------------------------------------------------------------------------


def test_a_rooms_page_shows_who_is_inside(mod_client, room, troll):
    member(room, troll)
    page = mod_client.get(f"/admin/rooms/room/{room.pk}/change/").content.decode()
    assert "troll" in page
    assert 'value="end_rooms"' in page
    assert 'value="remove_member"' in page


def test_rooms_filter_by_status_visibility_and_club(mod_client, room):
    for query in (
        {"status__exact": "live"},
        {"visibility__exact": "open"},
        {"club__isnull": "True"},
    ):
        page = mod_client.get("/admin/rooms/room/", query)
        assert page.status_code == 200
        assert list(page.context["cl"].result_list) == [room]


def test_end_selected_rooms(mod_client, moderator, room):
    later = room_create(
        host=room.host, title="Later", scheduled_for=timezone.now() + timedelta(days=1)
    )
    done = mod_client.post(
        "/admin/rooms/room/",
        {"action": "end_rooms", "_selected_action": [str(room.pk), str(later.pk)], "apply": "1"},
        follow=True,
    )
    assert "Ended 2 rooms; everyone inside was told and disconnected." in _messages(done)
    assert set(Room.objects.values_list("status", flat=True)) == {Room.Status.ENDED}
    assert ModerationLog.objects.filter(action=Action.STAFF_END_ROOM, actor=moderator).count() == 2


def test_remove_a_member_from_one_room(mod_client, moderator, room, troll):
    member(room, troll)
    first = mod_client.post(
        "/admin/rooms/room/", {"action": "remove_member", "_selected_action": [str(room.pk)]}
    )
    assert "@troll (Bridge Dweller) — Listener" in first.content.decode()
    mod_client.post(
        "/admin/rooms/room/",
        {
            "action": "remove_member",
            "_selected_action": [str(room.pk)],
            "member": RoomMember.objects.get(user=troll).pk,
            "note": "Spam.",
            "apply": "1",
        },
    )
    assert not RoomMember.objects.filter(user=troll).exists()
    assert RoomBan.objects.filter(room=room, user=troll).exists()
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target, log.note) == (
        Action.STAFF_REMOVE_MEMBER,
        moderator,
        troll,
        "Spam.",
    )


def test_remove_a_member_needs_exactly_one_live_room(mod_client, room):
    other = room_create(host=room.host, title="Other")
    both = mod_client.post(
        "/admin/rooms/room/",
        {"action": "remove_member", "_selected_action": [str(room.pk), str(other.pk)]},
        follow=True,
    )
    assert "Pick one room to remove someone from." in _messages(both)


def test_room_status_changes_only_through_the_actions(mod_client, room):
    client_page = mod_client.get(f"/admin/rooms/room/{room.pk}/change/")
    assert "status" not in client_page.context["adminform"].form.fields


# --- the moderation log -----------------------------------------------------------------------


def test_the_log_is_read_only_even_for_superusers(client, moderator, troll):
    user_suspend(actor=moderator, user=troll, duration=timedelta(days=1), reason="Spam.")
    log = ModerationLog.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/moderation/moderationlog/add/").status_code == 403
    assert (
        client.post(
            f"/admin/moderation/moderationlog/{log.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    client.post(f"/admin/moderation/moderationlog/{log.pk}/change/", {"note": "Edited."})
    log.refresh_from_db()
    assert log.note.endswith("Spam.")


def test_the_log_is_searchable_and_filterable(mod_client, moderator, troll, room):
    user_suspend(actor=moderator, user=troll, duration=timedelta(days=1), reason="Spam.")
    member(room, room.host, RoomMember.Role.MODERATOR)
    mod_client.post(
        "/admin/rooms/room/",
        {"action": "end_rooms", "_selected_action": [str(room.pk)], "apply": "1"},
    )

    def actions(**query):
        page = mod_client.get("/admin/moderation/moderationlog/", query)
        return [row.action for row in page.context["cl"].result_list]

    assert actions(q="troll") == [Action.SUSPEND]
    assert actions(q="Shouting") == [Action.STAFF_END_ROOM]
    assert actions(action__exact="suspend") == [Action.SUSPEND]
    assert sorted(actions(actor__id__exact=moderator.pk)) == sorted(
        [Action.SUSPEND, Action.STAFF_END_ROOM]
    )

"""Moving reports and the log into the moderation app keeps every row and every permission."""

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("moderation", None),
    ("accounts", "0004_api_tokens"),
    ("rooms", "0003_media_server"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.fixture
def latest():
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    yield targets
    _migrate(targets)  # the next tests find the schema they expect


@pytest.mark.django_db(transaction=True)
def test_moving_to_moderation_keeps_reports_log_rows_and_the_moderators_permissions(latest):
    old = _migrate(BEFORE)
    user = old.get_model("accounts", "User").objects.create(username="reported")
    reporter = old.get_model("accounts", "User").objects.create(username="reporter")
    room = old.get_model("rooms", "Room").objects.create(title="Loud", host=user, speaker_cap=10)
    report = old.get_model("accounts", "Report").objects.create(
        reporter=reporter, reported_user=user, reported_room=room, reason="spam", text="Ads."
    )
    entry = old.get_model("rooms", "ModerationLog").objects.create(
        action="end_room", actor=user, room=room, note="ended"
    )
    content_types = old.get_model("contenttypes", "ContentType").objects
    report_type = content_types.get(app_label="accounts", model="report").pk
    log_type = content_types.get(app_label="rooms", model="moderationlog").pk
    # What accounts 0003 gave the group (a test that flushed the database took it away).
    moderators, _ = old.get_model("auth", "Group").objects.get_or_create(name="Moderators")
    moderators.permissions.add(
        *old.get_model("auth", "Permission").objects.filter(
            content_type__in=[report_type, log_type],
            codename__in=["view_report", "change_report", "view_moderationlog"],
        )
    )

    new = _migrate(latest)

    moved = new.get_model("moderation", "Report").objects.get(pk=report.pk)
    assert (moved.reporter_id, moved.reported_user_id, moved.reported_room_id) == (
        reporter.pk,
        user.pk,
        room.pk,
    )
    assert (moved.reason, moved.text, moved.status, moved.times) == ("spam", "Ads.", "open", 1)
    logged = new.get_model("moderation", "ModerationLog").objects.get(pk=entry.pk)
    assert (logged.action, logged.actor_id, logged.room_id, logged.note) == (
        "end_room",
        user.pk,
        room.pk,
        "ended",
    )
    content_types = new.get_model("contenttypes", "ContentType").objects
    assert content_types.get(app_label="moderation", model="report").pk == report_type
    assert content_types.get(app_label="moderation", model="moderationlog").pk == log_type
    moderators = new.get_model("auth", "Group").objects.get(name="Moderators")
    held = set(
        moderators.permissions.filter(content_type__app_label="moderation").values_list(
            "codename", flat=True
        )
    )
    assert held == {"view_report", "change_report", "view_moderationlog"}


@pytest.mark.django_db(transaction=True)
def test_the_moved_constraints_still_hold(latest):
    """One open report per reporter and target, under the constraint's new name."""
    old = _migrate(BEFORE)
    user = old.get_model("accounts", "User").objects.create(username="reported")
    reporter = old.get_model("accounts", "User").objects.create(username="reporter")
    old.get_model("accounts", "Report").objects.create(
        reporter=reporter, reported_user=user, reason="spam"
    )
    new = _migrate(latest)
    reports = new.get_model("moderation", "Report").objects
    with pytest.raises(IntegrityError, match=r"moderation_report_open_user_unique|UNIQUE"):
        reports.create(reporter_id=reporter.pk, reported_user_id=user.pk, reason="hate")

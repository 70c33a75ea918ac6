"""Reports: people flag a person or a room; staff resolve or dismiss them."""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.models import Message
from chat.permissions import chat_access_to_read
from core.errors import ApplicationError
from moderation.models import (
    REPORT_TEXT_MAX_LENGTH,
    STAFF_NOTE_MAX_LENGTH,
    ModerationLog,
    Report,
)
from moderation.permissions import staff_may_handle_reports
from moderation.services.log import log_action
from replays.models import Replay
from replays.selectors import replay_visible
from rooms.access import room_visible_to
from rooms.models import Room

Status = Report.Status


def _room_to_report(*, reporter: User, room_id: UUID | str) -> Room:
    room = Room.objects.select_related("club").filter(pk=room_id).first()
    # Blocks do not hide a room here: someone who blocked the host may still report it.
    if room is None or not room_visible_to(user=reporter, room=room):
        raise ApplicationError.not_found("There is no such room, or it is not open to you.")
    return room


def _message_to_report(*, reporter: User, message_id: int) -> Message:
    message = (
        Message.objects.select_related("author", "room", "room__club").filter(pk=message_id).first()
    )
    if message is None or message.deleted_at is not None:
        raise ApplicationError.not_found("There is no such message, or it is not open to you.")
    # Only someone who may read the chat now saw the message.
    try:
        chat_access_to_read(user=reporter, room=message.room)
    except ApplicationError as error:
        raise ApplicationError.not_found(
            "There is no such message, or it is not open to you."
        ) from error
    return message


def _merged_text(old: str, new: str) -> str:
    if not new or new in old:
        return old
    return (f"{old}\n\n{new}" if old else new)[:REPORT_TEXT_MAX_LENGTH]


@transaction.atomic
def report_create(
    *,
    reporter: User,
    reason: str,
    text: str = "",
    user: User | None = None,
    room_id: UUID | str | None = None,
    message_id: int | None = None,
    replay_at: float | None = None,
) -> tuple[Report, bool]:
    """Reports a person, a room, a person in a room or a chat message (which names its
    author and its room); `replay_at` points at a moment of the room's replay (seconds).
    Returns (report, created).

    While the reporter's earlier report of the same target is open, a new one is merged
    into it: the latest reason counts, new text is added, `times` goes up.
    """
    if user is None and room_id is None and message_id is None:
        raise ApplicationError("Say who or which room you are reporting.", code="no_target")
    if message_id is not None and (user is not None or room_id is not None):
        raise ApplicationError(
            "A message is reported alone: it names its author and its room.", code="invalid"
        )
    if replay_at is not None:
        _check_moment(reporter=reporter, room_id=room_id, message_id=message_id, at=replay_at)
    if reason not in Report.Reason.values:
        raise ApplicationError(f"A reason is one of: {', '.join(Report.Reason.values)}.")
    text = text.strip()
    if len(text) > REPORT_TEXT_MAX_LENGTH:
        raise ApplicationError(f"Keep the details under {REPORT_TEXT_MAX_LENGTH} characters.")
    message = None
    if message_id is not None:
        message = _message_to_report(reporter=reporter, message_id=message_id)
        user, room_id = message.author, message.room_id
    if user is not None and user.pk == reporter.pk:
        raise ApplicationError("You cannot report yourself.", code="self_report")
    room = _room_to_report(reporter=reporter, room_id=room_id) if room_id is not None else None
    # The reporter's row is the lock: two reports of one target at once merge, not race.
    User.objects.select_for_update().filter(pk=reporter.pk).exists()
    report = (
        Report.objects.select_for_update()
        .filter(
            reporter=reporter,
            reported_user=user,
            reported_room=room,
            message=message,
            status=Status.OPEN,
        )
        .first()
    )
    now = timezone.now()
    if report is None:
        report = Report.objects.create(
            reporter=reporter,
            reported_user=user,
            reported_room=room,
            message=message,
            reason=reason,
            text=text,
            replay_at=replay_at,
            last_reported=now,
        )
        return report, True
    report.reason = reason
    report.text = _merged_text(report.text, text)
    report.times += 1
    report.last_reported = now
    # The latest moment named, if this one names one.
    report.replay_at = replay_at if replay_at is not None else report.replay_at
    report.save(update_fields=["reason", "text", "times", "last_reported", "replay_at"])
    return report, False


def _check_moment(
    *, reporter: User, room_id: UUID | str | None, message_id: int | None, at: float
) -> None:
    """A moment is one of a room's ready replay that the reporter may hear."""
    if room_id is None or message_id is not None:
        raise ApplicationError("A moment of a replay is reported with its room.", code="invalid")
    replay = replay_visible(user=reporter, room_id=room_id)
    if replay.status != Replay.Status.READY or replay.duration is None:
        raise ApplicationError.not_found("That room has no replay to point at.")
    if not 0 <= at <= replay.duration:
        raise ApplicationError(
            f"The moment is within the replay: 0 to {int(replay.duration)} seconds.",
            code="invalid",
        )


def _handle(*, actor: User, report_id: int, status: str, action: str, note: str) -> Report:
    staff_may_handle_reports(actor=actor)
    note = note.strip()
    if len(note) > STAFF_NOTE_MAX_LENGTH:
        raise ApplicationError(f"Keep the note under {STAFF_NOTE_MAX_LENGTH} characters.")
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise ApplicationError.not_found("There is no such report.")
    if not report.is_open:
        raise ApplicationError.conflict(
            f"Report #{report.pk} was {report.get_status_display().lower()} already."
        )
    report.status = status
    report.handled_by = actor
    report.handled_at = timezone.now()
    if note:
        report.staff_note = note
    report.save(update_fields=["status", "handled_by", "handled_at", "staff_note"])
    summary = f"Report #{report.pk} ({report.reason})" + (f": {note}" if note else "")
    log_action(
        action=action,
        actor=actor,
        room=report.reported_room,
        target=report.reported_user,
        note=summary,
    )
    return report


@transaction.atomic
def report_resolve(*, actor: User, report_id: int, note: str = "") -> Report:
    """Staff acted on the report (or found it needed nothing more)."""
    return _handle(
        actor=actor,
        report_id=report_id,
        status=Status.RESOLVED,
        action=ModerationLog.Action.REPORT_RESOLVED,
        note=note,
    )


@transaction.atomic
def report_dismiss(*, actor: User, report_id: int, note: str = "") -> Report:
    """Staff found nothing wrong."""
    return _handle(
        actor=actor,
        report_id=report_id,
        status=Status.DISMISSED,
        action=ModerationLog.Action.REPORT_DISMISSED,
        note=note,
    )

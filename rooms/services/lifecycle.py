"""Creating, changing, starting, cancelling and ending rooms; "remind me"."""

from collections.abc import Collection
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from follows.models import Club
from follows.permissions import club_leads
from realtime.close_codes import CLOSE_NOT_FOUND
from rooms import events, protocol, signals
from rooms.languages import DEFAULT_LANGUAGE
from rooms.media.services import media_room_ended, media_room_started
from rooms.models import TOPICS_MAX, RecordConsent, Room, RoomMember, RoomRsvp, Topic
from rooms.permissions import (
    room_access_as_moderator,
    room_access_as_staff,
    room_access_to_manage,
    room_access_to_see,
    room_co_hosts_allowed,
    room_creations_within_budget,
    room_invitees_allowed,
    room_invites_within_budget,
    room_is_host_or_co_host,
    room_live_within_cap,
)
from rooms.services.common import locked_room
from rooms.services.recording import recording_check_available

SCHEDULE_HORIZON = timedelta(days=365)


@transaction.atomic
def room_create(
    *,
    host: User,
    title: str,
    description: str = "",
    club: Club | None = None,
    visibility: str = Room.Visibility.OPEN,
    scheduled_for: datetime | None = None,
    co_hosts: Collection[User] = (),
    invitees: Collection[User] = (),
    speaker_cap: int | None = None,
    topics: Collection[Topic] = (),
    language: str = DEFAULT_LANGUAGE,
    recording: bool = False,
) -> Room:
    """A room that starts now (no `scheduled_for`) or at a time in the future; one that
    records starts on the media server, with the host's consent to be recorded."""
    # One person's rooms are made one at a time: the cap on live rooms counts them exactly.
    User.objects.select_for_update().filter(pk=host.pk).first()
    if club is not None and not club_leads(user=host, club=club):
        raise ApplicationError.forbidden(f"Only admins and leaders of {club.name} host its rooms.")
    if scheduled_for is not None:
        _check_start_time(scheduled_for)
    cap = settings.ROOM_SPEAKER_CAP if speaker_cap is None else speaker_cap
    if not 1 <= cap <= settings.ROOM_SPEAKER_CAP:
        raise ApplicationError(
            f"The speaker cap is between 1 and {settings.ROOM_SPEAKER_CAP}.", code="invalid"
        )
    co_hosts = _checked_co_hosts(host=host, co_hosts=co_hosts, cap=cap)
    topics = _checked_topics(topics)
    room_invitees_allowed(host=host, invitees=invitees, club_id=club.pk if club else None)
    if recording:
        recording_check_available()
    room_creations_within_budget(host=host)
    room_invites_within_budget(inviter=host, count=len(invitees))
    room = Room(
        host=host,
        title=title.strip(),
        description=description.strip(),
        club=club,
        visibility=visibility,
        scheduled_for=scheduled_for,
        speaker_cap=cap,
        language=language,
        recording=recording,
    )
    room.full_clean()
    room.save()
    if recording:
        RecordConsent.objects.create(room=room, user=host)
    room.topics.set(topics)
    room.co_hosts.set(co_hosts)
    room.invitees.set(invitees)
    if scheduled_for is None:
        _go_live(room)
    else:
        signals.room_scheduled.send(Room, room=room)
    return room


def _check_start_time(scheduled_for: datetime) -> None:
    now = timezone.now()
    if scheduled_for <= now:
        raise ApplicationError("Pick a start time in the future.", code="invalid")
    if scheduled_for > now + SCHEDULE_HORIZON:
        raise ApplicationError("Rooms can be scheduled up to a year ahead.", code="invalid")


def _checked_co_hosts(*, host: User, co_hosts: Collection[User], cap: int) -> list[User]:
    """The co-hosts without the host, once each was checked; raises when one may not be."""
    people = [user for user in co_hosts if user.pk != host.pk]
    if len(people) + 1 > cap:
        raise ApplicationError("More co-hosts than the stage holds.", code="invalid")
    room_co_hosts_allowed(host=host, co_hosts=people)
    return people


def _locked_scheduled_room(*, actor: User, room_id: UUID | str) -> Room:
    room = locked_room(room_id)
    room_access_to_manage(user=actor, room=room)
    if room.status != Room.Status.SCHEDULED:
        raise ApplicationError.conflict(
            "This room is live already." if room.is_live else "This room has ended."
        )
    return room


def _checked_topics(topics: Collection[Topic]) -> list[Topic]:
    topics = list(dict.fromkeys(topics))
    if len(topics) > TOPICS_MAX:
        raise ApplicationError(f"A room has at most {TOPICS_MAX} topics.", code="invalid")
    return topics


@transaction.atomic
def room_update(
    *,
    actor: User,
    room_id: UUID | str,
    title: str | None = None,
    description: str | None = None,
    scheduled_for: datetime | None = None,
    topics: Collection[Topic] | None = None,
    language: str | None = None,
    co_hosts: Collection[User] | None = None,
    invitees: Collection[User] | None = None,
    recording: bool | None = None,
) -> Room:
    """The host or a co-host changes a scheduled room; None leaves a field as it is.

    A change raises the room's calendar sequence; a new time is announced
    (`room_rescheduled`) to the people waiting for the room."""
    room = _locked_scheduled_room(actor=actor, room_id=room_id)
    host = room.host
    changed: list[str] = []
    previous = room.scheduled_for
    if scheduled_for is not None and scheduled_for != previous:
        _check_start_time(scheduled_for)
        room.scheduled_for = scheduled_for
        changed.append("scheduled_for")
    for field, value in (("title", title), ("description", description), ("language", language)):
        if value is not None and value.strip() != getattr(room, field):
            setattr(room, field, value.strip())
            changed.append(field)
    if recording is not None and recording != room.recording:
        _recording_choose(room, actor=actor, recording=recording)
        changed.append("recording")
    if topics is not None:
        topics = _checked_topics(topics)
        if {t.pk for t in topics} != set(room.topics.values_list("pk", flat=True)):
            room.topics.set(topics)
            changed.append("topics")
    if co_hosts is not None:
        people = _checked_co_hosts(host=host, co_hosts=co_hosts, cap=room.speaker_cap)
        if {p.pk for p in people} != set(room.co_hosts.values_list("pk", flat=True)):
            room.co_hosts.set(people)
            changed.append("co_hosts")
    if invitees is not None:
        room_invitees_allowed(host=host, invitees=invitees, club_id=room.club_id)
        invited = set(room.invitees.values_list("pk", flat=True))
        room_invites_within_budget(inviter=actor, count=len({p.pk for p in invitees} - invited))
        if {p.pk for p in invitees} != invited:
            room.invitees.set(invitees)
            changed.append("invitees")
    if not changed:
        return room
    room.calendar_sequence += 1
    room.full_clean()
    room.save(
        update_fields=[
            *(f for f in changed if f not in ("topics", "co_hosts", "invitees")),
            "calendar_sequence",
        ]
    )
    signals.room_edited.send(Room, room=room, actor=actor, changed=changed)
    if "scheduled_for" in changed:
        signals.room_rescheduled.send(Room, room=room, actor=actor, previous=previous)
    return room


def _recording_choose(room: Room, *, actor: User, recording: bool) -> None:
    """A scheduled room will record (with the consent of whoever chose it) or will not."""
    if recording:
        recording_check_available()
        RecordConsent.objects.get_or_create(room=room, user=actor)
    room.recording = recording


@transaction.atomic
def room_cancel(*, actor: User, room_id: UUID | str) -> Room:
    """The host or a co-host calls off a scheduled room; those waiting for it are told."""
    _locked_scheduled_room(actor=actor, room_id=room_id)
    return room_end(actor=actor, room_id=room_id, note="cancelled")


def _go_live(room: Room) -> None:
    room_live_within_cap(room=room)
    now = timezone.now()
    room.status = Room.Status.LIVE
    room.started_at = now
    # Nobody moderates until the host's connection arrives; the grace period covers that.
    room.unmoderated_since = now
    # On the media server before it is live there: a live room that records is there.
    media_room_started(room)
    room.save(update_fields=["status", "started_at", "unmoderated_since"])
    signals.room_started.send(Room, room=room)


@transaction.atomic
def room_start(*, actor: User, room_id: UUID | str) -> Room:
    room = locked_room(room_id)
    User.objects.select_for_update().filter(pk=room.host_id).first()
    if not room_is_host_or_co_host(user=actor, room=room):
        raise ApplicationError.forbidden("Only the host and co-hosts can start this room.")
    if room.status != Room.Status.SCHEDULED:
        raise ApplicationError.conflict(
            "This room is live already." if room.is_live else "This room has ended."
        )
    _go_live(room)
    return room


@transaction.atomic
def room_end(
    *,
    actor: User | None,
    room_id: UUID | str,
    reason: str = "ended",
    as_staff: bool = False,
    note: str = "",
) -> Room:
    """Ends a live room (or cancels a scheduled one); everyone inside is told and let go.

    `actor=None` is the system (the grace period ran out). `as_staff` is site staff acting
    from admin: they need not moderate the room, and the log says it was staff.
    """
    room = locked_room(room_id)
    if as_staff:
        room_access_as_staff(user=actor)
    elif actor is not None:
        room_access_as_moderator(user=actor, room=room)
    if room.status == Room.Status.ENDED:
        raise ApplicationError.conflict("This room has ended already.")
    cancelled = room.status == Room.Status.SCHEDULED
    room.status = Room.Status.ENDED
    room.ended_at = timezone.now()
    room.unmoderated_since = None
    if cancelled:
        room.calendar_sequence += 1
    room.save(update_fields=["status", "ended_at", "unmoderated_since", "calendar_sequence"])
    RoomMember.objects.filter(room=room).delete()
    media_room_ended(room)
    events.publish_and_close(room, protocol.RoomEnded, code=CLOSE_NOT_FOUND, reason=reason)
    signals.room_ended.send(Room, room=room, actor=actor, as_staff=as_staff, note=note or reason)
    if cancelled:
        signals.room_cancelled.send(Room, room=room, actor=actor)
    return room


@transaction.atomic
def rsvp_create(*, user: User, room_id: UUID | str) -> tuple[RoomRsvp, bool]:
    room = locked_room(room_id)
    if room.status != Room.Status.SCHEDULED:
        raise ApplicationError.conflict("Reminders are for rooms that have not started yet.")
    room_access_to_see(user=user, room=room)
    return RoomRsvp.objects.get_or_create(room=room, user=user)


@transaction.atomic
def rsvp_delete(*, user: User, room_id: UUID | str) -> bool:
    deleted, _ = RoomRsvp.objects.filter(room_id=room_id, user=user).delete()
    return bool(deleted)

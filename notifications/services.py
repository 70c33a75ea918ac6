"""Every write of notifications: telling one person, fanning a room event out, reminders,
reading, preferences and the calendar feed's secret.

A room event reaches its audience in three steps. The service that changed the room calls
`fan_out_create` inside its own transaction, which writes a FanOut row; once that commits, a
task computes the audience (`fan_out_plan`) and enqueues one task per chunk of recipients
(`fan_out_chunk`), which writes its rows in bulk and pushes them to whoever is online. Each
step is idempotent — the FanOut is planned once under a row lock, and a notification exists
at most once per (recipient, kind, subject) — so tasks that run twice, or run again after a
worker died, leave exactly one notification per person.
"""

import logging
import time as clock
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any, cast

from celery import current_app  # type: ignore[import-untyped]
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from core.cache import cache_count
from core.errors import ApplicationError
from follows.models import Club
from follows.permissions import users_blocked_between
from notifications.models import (
    ClubMute,
    Connection,
    FanOut,
    Notification,
    PersonMute,
    Preferences,
    new_calendar_token,
    zone_or_utc,
)
from notifications.protocol import NotificationCreated, NotificationInfo
from notifications.push import push_enqueue_on_commit
from notifications.selectors import (
    folded_mentions_subject,
    online_user_ids,
    preferences_of,
    room_audience_ids,
    unread_count,
    unread_counts,
)
from notifications.serializers import notification_payload, notification_payloads_of_one_event
from realtime.delivery import deliver_to_groups, group_send_on_commit
from realtime.messages import HALLWAY_CHANGED, NOTIFICATION_CREATED, UNREAD_COUNT, person_group
from realtime.protocol import encode
from rooms.models import Room

logger = logging.getLogger(__name__)

Kind = Notification.Kind


# The tasks call these services; the services reach the tasks by name, so that the import
# runs one way (notifications.tasks imports this module, never the reverse).
FAN_OUT_PLAN_TASK = "notifications.tasks.fan_out_plan"
FAN_OUT_CHUNK_TASK = "notifications.tasks.fan_out_chunk"


def _enqueue(task_name: str, *args: object) -> None:
    current_app.tasks[task_name].delay(*args)


# The notification sockets of open hallway pages (they send `hallway.watch`).
HALLWAY_GROUP = "notifications.hallway"


def hallway_changed_announce(*, room: Room) -> None:
    """Once the change commits, tells open hallway pages that an open room started, ended,
    was scheduled or changed, in one message to one group: the channel layer fans it out,
    and each page fetches its lists through the access rule. Rooms that are not open reach
    the people let in through their `room_started` notification (a fan-out to that audience
    alone)."""
    if room.visibility == Room.Visibility.OPEN:
        group_send_on_commit(HALLWAY_GROUP, {"type": HALLWAY_CHANGED})


# --- Pushes --------------------------------------------------------------------------------


def _push(notifications: list[Notification], payloads: list[dict] | None = None) -> None:
    """Tells the sockets of these notifications' recipients, now. A push that fails is only
    logged: the rows are committed, and every socket starts with the unread count."""
    if not notifications:
        return
    if payloads is None:
        payloads = [notification_payload(n) for n in notifications]
    counts = unread_counts(user_ids=[n.recipient_id for n in notifications])
    pushes = [
        (
            person_group(n.recipient_id),
            {
                "type": NOTIFICATION_CREATED,
                # The API's own serialization, which has the declared shape (the contract
                # tests check it): a push says exactly what the inbox lists.
                "text": encode(NotificationCreated(notification=cast(NotificationInfo, payload))),
                "count": counts.get(n.recipient_id, 0),
            },
        )
        for n, payload in zip(notifications, payloads, strict=True)
    ]
    try:
        deliver_to_groups(pushes)
    except Exception:
        logger.exception(
            "Pushing %d notifications failed; their recipients see them when their socket "
            "reconnects.",
            len(pushes),
        )


def _push_unread_count(user_id: int) -> None:
    try:
        count = unread_count(user=user_id)
        deliver_to_groups([(person_group(user_id), {"type": UNREAD_COUNT, "count": count})])
    except Exception:
        logger.exception("Pushing an unread count failed.")


# --- One recipient -------------------------------------------------------------------------


def _notify(
    *,
    recipient: User,
    kind: str,
    subject: str,
    actor: User | None,
    room: Room | None = None,
    club: Club | None = None,
) -> bool:
    """Tells one person, once per subject, unless their account is restricted, they turned
    the kind off, or a block stands between them and the actor. Runs in the caller's transaction; pushes after it commits."""
    if not recipient.is_active or recipient.restriction() is not None:
        return False
    if not preferences_of(user=recipient).wants(kind):
        return False
    if actor is not None and users_blocked_between(recipient, actor):
        return False
    notification, created = Notification.objects.get_or_create(
        recipient=recipient,
        kind=kind,
        subject=subject,
        defaults={"actor": actor, "room": room, "club": club},
    )
    if created:
        transaction.on_commit(partial(_push, [notification]))
        push_enqueue_on_commit(kind=kind, subject=subject, recipient_ids=[recipient.pk])
    return created


def room_subject(room: Room) -> str:
    return f"room:{room.pk}"


def new_follower_notify(*, follower: User, followee: User) -> bool:
    return _notify(
        recipient=followee, kind=Kind.NEW_FOLLOWER, subject=f"user:{follower.pk}", actor=follower
    )


def speaker_invite_notify(*, actor: User, user: User, room: Room) -> bool:
    """Unless the person muted the inviter: then no invitation of theirs reaches them (and
    the inviter is not told, as with a block)."""
    if PersonMute.objects.filter(user=user, muted=actor).exists():
        return False
    return _notify(
        recipient=user, kind=Kind.SPEAKER_INVITE, subject=room_subject(room), actor=actor, room=room
    )


def chat_mentions_notify(*, actor: User, users: Sequence[User], room: Room) -> None:
    """Tells the people `actor` mentioned (and who are not in the room): once per room each,
    within CHAT_MENTIONS_PER_HOUR notifications of the author's an hour across rooms. Past
    it, each person's later mentions by the author that hour fold into one notification
    (`folded_mentions_subject`): none is dropped unsaid, none multiplies."""
    if not users:
        return
    hour = int(clock.time() // 3600)
    used = cache_count(f"mentions:{actor.pk}:{hour}", timeout=3600 + 60, by=len(users))
    within = max(0, len(users) - max(0, used - settings.CHAT_MENTIONS_PER_HOUR))
    for index, user in enumerate(users):
        subject = room_subject(room) if index < within else folded_mentions_subject(actor, hour)
        _notify(recipient=user, kind=Kind.CHAT_MENTION, subject=subject, actor=actor, room=room)


def club_invite_notify(*, actor: User, user: User, club: Club) -> bool:
    return _notify(
        recipient=user, kind=Kind.CLUB_INVITE, subject=f"club:{club.pk}", actor=actor, club=club
    )


# --- Room events through Celery ----------------------------------------------------------


def fan_out_create(*, room: Room, kind: str) -> FanOut:
    """Called by the room services, in their transaction: the event is recorded with the
    change, and its fan-out is enqueued once the transaction commits."""
    fan_out, created = FanOut.objects.get_or_create(room=room, kind=kind)
    if created:
        transaction.on_commit(partial(fan_out_dispatch, fan_out_id=fan_out.pk))
    return fan_out


def fan_out_dispatch(*, fan_out_id: int) -> bool:
    """Enqueues the planning task. A broker that is down must not undo the room's change:
    the failure is logged and the minute task enqueues it again."""
    try:
        _enqueue(FAN_OUT_PLAN_TASK, fan_out_id)
    except Exception:
        logger.exception("Enqueuing fan-out %s failed; the minute task will retry.", fan_out_id)
        return False
    return True


def room_rescheduled_fan_out(*, room: Room) -> FanOut:
    """A scheduled room moved: the people waiting for it hear the new time, and its reminder
    goes out again before the new time. Runs in the room service's transaction.

    The last change's notifications and the reminder already sent give way (a notification
    exists once per person, kind and room): whoever was told of an earlier time, or
    reminded of it, is told again."""
    stale = [Kind.ROOM_RESCHEDULED, Kind.ROOM_REMINDER]
    FanOut.objects.filter(room=room, kind__in=stale).delete()
    Notification.objects.filter(kind__in=stale, subject=room_subject(room)).delete()
    return fan_out_create(room=room, kind=Kind.ROOM_RESCHEDULED)


def _still_news(fan_out: FanOut) -> bool:
    """A fan-out that runs late says nothing about a room that has moved on."""
    wanted = {
        Kind.ROOM_STARTED: Room.Status.LIVE,
        Kind.ROOM_CANCELLED: Room.Status.ENDED,
    }.get(Kind(fan_out.kind), Room.Status.SCHEDULED)
    return fan_out.room.status == wanted


def fan_out_plan(*, fan_out_id: int) -> int | None:
    """Computes the audience and enqueues one chunk task per NOTIFY_CHUNK_SIZE recipients:
    first the recipients with a notification socket open, whose chunks push, then the rest,
    whose chunks only write (they see the rows when they next connect).

    The FanOut row stays locked until every chunk is enqueued and it is marked planned, so a
    second run (a repeat, or an overlapping one) finds it planned and does nothing. A run
    that dies before the mark is repeated whole; its chunks are idempotent."""
    with transaction.atomic():
        fan_out = (
            FanOut.objects.select_for_update(of=("self",))
            .select_related("room")
            .filter(pk=fan_out_id)
            .first()
        )
        if fan_out is None or fan_out.planned_at is not None:
            return None
        recipients = (
            room_audience_ids(room=fan_out.room, kind=fan_out.kind) if _still_news(fan_out) else []
        )
        _chunks_enqueue(fan_out_id, recipients)
        fan_out.planned_at = timezone.now()
        fan_out.recipients = len(recipients)
        fan_out.save(update_fields=["planned_at", "recipients"])
    return len(recipients)


def _chunks_enqueue(fan_out_id: int, recipients: list[int]) -> None:
    online = set(Connection.objects.values_list("user_id", flat=True))
    size = settings.NOTIFY_CHUNK_SIZE
    for push in (True, False):
        part = [pk for pk in recipients if (pk in online) == push]
        for start in range(0, len(part), size):
            _enqueue(FAN_OUT_CHUNK_TASK, fan_out_id, part[start : start + size], push)


def fan_out_verify(*, fan_out_id: int, now: datetime) -> int:
    """The minute task's check of a planned fan-out: the recipients who still have no row
    (their chunk's task was lost by the broker) are enqueued again, and the next check comes
    NOTIFY_VERIFY_AFTER_SECONDS later; once nobody is missing, the fan-out is marked
    verified. A room that moved on is not told late. Returns how many were enqueued again."""
    with transaction.atomic():
        fan_out = (
            FanOut.objects.select_for_update(of=("self",))
            .select_related("room")
            .filter(pk=fan_out_id, verified_at__isnull=True)
            .first()
        )
        if fan_out is None:
            return 0
        missing: list[int] = []
        if _still_news(fan_out):
            told = set(
                Notification.objects.filter(
                    kind=fan_out.kind, subject=room_subject(fan_out.room)
                ).values_list("recipient_id", flat=True)
            )
            audience = room_audience_ids(room=fan_out.room, kind=fan_out.kind)
            missing = [pk for pk in audience if pk not in told]
        if missing:
            logger.warning(
                "Fan-out %s: %d recipients had no notification; enqueued again.",
                fan_out_id,
                len(missing),
            )
            _chunks_enqueue(fan_out_id, missing)
            fan_out.planned_at = now
            fan_out.save(update_fields=["planned_at"])
        else:
            fan_out.verified_at = now
            fan_out.save(update_fields=["verified_at"])
    return len(missing)


def fan_out_chunk(*, fan_out_id: int, recipient_ids: list[int], push: bool = True) -> int:
    """Writes the notifications of one chunk in bulk (rows that exist are left alone), then,
    with `push`, pushes them to the recipients who are online. Returns the number of rows in
    the chunk."""
    fan_out = FanOut.objects.select_related("room").filter(pk=fan_out_id).first()
    if fan_out is None:
        return 0
    with transaction.atomic():
        _rows_write(fan_out, recipient_ids)
        if push:
            transaction.on_commit(partial(_push_fan_out, fan_out, recipient_ids))
        # Devices hear of it whether or not a page is open (a page that is open shows the
        # toast too; the device's notification has the same tag, and opening either reads it).
        push_enqueue_on_commit(
            kind=fan_out.kind, subject=room_subject(fan_out.room), recipient_ids=recipient_ids
        )
    if fan_out.kind == Kind.ROOM_REMINDER:
        _email_reminders(room=fan_out.room, recipient_ids=recipient_ids)
    return len(recipient_ids)


def _rows_write(fan_out: FanOut, recipient_ids: list[int]) -> None:
    """One row per recipient; a row that exists already is left alone.

    On Postgres the rows are made by the database from one array of ids
    (INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING): building a model instance and
    a parameter per column of every row cost several times the insert itself."""
    room = fan_out.room
    fields: dict[str, Any] = {
        "kind": fan_out.kind,
        "subject": room_subject(room),
        "actor_id": room.host_id,
        "room_id": room.pk,
        "club_id": room.club_id,
        "created": timezone.now(),
    }
    if connection.vendor != "postgresql":
        Notification.objects.bulk_create(
            [Notification(recipient_id=pk, **fields) for pk in recipient_ids],
            ignore_conflicts=True,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ["recipient_id", *fields])
    placeholders = ", ".join(["%s"] * len(fields))
    statement = (
        f"INSERT INTO {quote(Notification._meta.db_table)} ({columns}) "  # noqa: S608 (names, no input)
        f"SELECT recipient, {placeholders} FROM unnest(%s::bigint[]) AS recipient "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*fields.values(), recipient_ids])


def _push_fan_out(fan_out: FanOut, recipient_ids: list[int]) -> None:
    """Pushes the unread notifications of this fan-out to its online recipients. A repeated
    chunk pushes again; the page's script ignores a notification id it has seen."""
    online = online_user_ids(user_ids=recipient_ids)
    if not online:
        return
    notifications = list(
        Notification.objects.filter(
            kind=fan_out.kind,
            subject=room_subject(fan_out.room),
            recipient_id__in=online,
            read_at__isnull=True,
        ).select_related("actor", "room", "club")
    )
    _push(notifications, notification_payloads_of_one_event(notifications))


def _email_reminders(*, room: Room, recipient_ids: list[int]) -> int:
    """Emails the reminder to recipients who opted in. Each row is claimed (emailed_at)
    before sending, so a repeated chunk never mails twice."""
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(
                kind=Kind.ROOM_REMINDER,
                subject=room_subject(room),
                recipient_id__in=recipient_ids,
                emailed_at__isnull=True,
                recipient__notification_preferences__email_reminders=True,
            )
            .exclude(recipient__email="")
            .select_related("recipient__notification_preferences", "room", "room__host")
        )
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
            emailed_at=timezone.now()
        )
    if not claimed:
        return 0
    base = settings.SITE_URL.rstrip("/")
    messages = []
    for n in claimed:
        # The start as the reader's clock shows it (their zone from their preferences).
        with timezone.override(zone_or_utc(n.recipient.notification_preferences.time_zone)):
            body = render_to_string(
                "notifications/reminder_email.txt",
                {"notification": n, "room": room, "room_url": base + room.get_absolute_url()},
            )
        messages.append(
            mail.EmailMessage(
                subject=f"Starting soon: {room.title}", body=body, to=[n.recipient.email]
            )
        )
    with mail.get_connection() as connection:
        connection.send_messages(messages)
    return len(messages)


def reminders_send(*, now: datetime | None = None) -> dict:
    """The minute task's work: a "starting soon" fan-out for every scheduled room within
    ROOM_REMINDER_LEAD_MINUTES of its start (once per room, however many runs overlap),
    fan-outs whose enqueuing was lost sent again, planned fan-outs of the last day checked
    for recipients whose chunk was lost, and the presence of dead servers dropped."""
    now = now or timezone.now()
    lead = timedelta(minutes=settings.ROOM_REMINDER_LEAD_MINUTES)
    due = (
        Room.objects.filter(
            status=Room.Status.SCHEDULED,
            scheduled_for__lte=now + lead,
            scheduled_for__gt=now - lead,
        )
        .exclude(fan_outs__kind=Kind.ROOM_REMINDER)
        .values_list("pk", flat=True)
    )
    reminded = 0
    for room_id in list(due):
        with transaction.atomic():
            room = Room.objects.filter(pk=room_id).first()
            if room is not None:
                fan_out_create(room=room, kind=Kind.ROOM_REMINDER)
                reminded += 1
    stale = FanOut.objects.filter(
        planned_at__isnull=True,
        created__lt=now - timedelta(seconds=settings.NOTIFY_REDISPATCH_AFTER_SECONDS),
    ).values_list("pk", flat=True)
    redispatched = sum(fan_out_dispatch(fan_out_id=pk) for pk in list(stale))
    unverified = FanOut.objects.filter(
        planned_at__lt=now - timedelta(seconds=settings.NOTIFY_VERIFY_AFTER_SECONDS),
        verified_at__isnull=True,
        created__gt=now - timedelta(days=1),
    ).values_list("pk", flat=True)
    resent = sum(fan_out_verify(fan_out_id=pk, now=now) for pk in list(unverified))
    gone_before = now - timedelta(seconds=3 * settings.NOTIFY_SOCKET_REFRESH_SECONDS)
    dropped, _ = Connection.objects.filter(last_seen__lt=gone_before).delete()
    return {
        "reminded": reminded,
        "redispatched": redispatched,
        "resent": resent,
        "connections_dropped": dropped,
    }


# --- Reading -------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(
    *, user: User, ids: Iterable[int] | None = None, everything: bool = False
) -> int:
    """Marks the person's notifications read: these ids, or all of them (`everything`, ids
    or not); none given marks none. Ids that are not theirs (or do not exist) change nothing
    and are named in the error."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if not everything:
        wanted = set(ids or ())
        if not wanted:
            return 0
        mine = set(
            Notification.objects.filter(recipient=user, pk__in=wanted).values_list("pk", flat=True)
        )
        unknown = sorted(wanted - mine)
        if unknown:
            listed = ", ".join(str(pk) for pk in unknown[:10])
            raise ApplicationError.not_found(
                f"You have no notification with the id {listed}; nothing was marked read."
            )
        unread = unread.filter(pk__in=wanted)
    marked = unread.update(read_at=timezone.now())
    if marked:
        transaction.on_commit(partial(_push_unread_count, user.pk))
    return marked


# --- Preferences ---------------------------------------------------------------------------

KIND_FIELDS = tuple(Kind.values)


def _preferences_for_update(user: User) -> Preferences:
    preferences, _ = Preferences.objects.select_for_update().get_or_create(user=user)
    return preferences


QuietHours = tuple[time | None, time | None]


def _time_zone_check(name: str) -> None:
    if name and zone_or_utc(name) is UTC:
        raise ApplicationError(
            f"“{name}” is not a time zone; use a name like Europe/Paris.", code="time_zone"
        )


@transaction.atomic
def preferences_update(
    *,
    user: User,
    kinds: dict[str, bool] | None = None,
    email_reminders: bool | None = None,
    quiet_hours: QuietHours | None = None,
    time_zone: str | None = None,
) -> Preferences:
    """`quiet_hours` is (start, end), or (None, None) for none; None leaves them as they are."""
    preferences = _preferences_for_update(user)
    if quiet_hours is not None:
        start, end = quiet_hours
        if (start is None) != (end is None):
            raise ApplicationError(
                "Quiet hours need both a start and an end (or neither).", code="quiet_hours"
            )
        if start is not None and start == end:
            raise ApplicationError(
                "Quiet hours that start when they end would last no time at all.",
                code="quiet_hours",
            )
        preferences.quiet_start, preferences.quiet_end = start, end
    if time_zone is not None:
        _time_zone_check(time_zone)
        preferences.time_zone = time_zone
    for kind, on in (kinds or {}).items():
        if kind not in KIND_FIELDS:
            raise ApplicationError(f"A kind is one of: {', '.join(KIND_FIELDS)}.")
        setattr(preferences, kind, bool(on))
    if email_reminders is not None:
        if email_reminders and not user.email:
            raise ApplicationError(
                "Add an email address to your profile before turning on email reminders.",
                code="no_email",
            )
        preferences.email_reminders = email_reminders
    preferences.save()
    return preferences


@transaction.atomic
def person_mute(*, user: User, person: User) -> bool:
    if person.pk == user.pk:
        raise ApplicationError("Your own rooms never notify you.", code="self_mute")
    _, created = PersonMute.objects.get_or_create(user=user, muted=person)
    return created


@transaction.atomic
def person_unmute(*, user: User, person: User) -> bool:
    deleted, _ = PersonMute.objects.filter(user=user, muted=person).delete()
    return bool(deleted)


@transaction.atomic
def club_mute(*, user: User, club: Club) -> bool:
    _, created = ClubMute.objects.get_or_create(user=user, club=club)
    return created


@transaction.atomic
def club_unmute(*, user: User, club: Club) -> bool:
    deleted, _ = ClubMute.objects.filter(user=user, club=club).delete()
    return bool(deleted)


@transaction.atomic
def mutes_set(
    *, user: User, people: Collection[User] | None = None, clubs: Collection[Club] | None = None
) -> None:
    """Replaces the muted people and/or clubs with these lists."""
    if people is not None:
        if any(person.pk == user.pk for person in people):
            raise ApplicationError("Your own rooms never notify you.", code="self_mute")
        PersonMute.objects.filter(user=user).exclude(muted__in=people).delete()
        for person in people:
            PersonMute.objects.get_or_create(user=user, muted=person)
    if clubs is not None:
        ClubMute.objects.filter(user=user).exclude(club__in=clubs).delete()
        for club in clubs:
            ClubMute.objects.get_or_create(user=user, club=club)


@transaction.atomic
def preferences_and_mutes_update(
    *,
    user: User,
    kinds: dict[str, bool] | None = None,
    email_reminders: bool | None = None,
    muted_people: Collection[User] | None = None,
    muted_clubs: Collection[Club] | None = None,
    quiet_hours: QuietHours | None = None,
    time_zone: str | None = None,
) -> None:
    """The settings form and the API in one go: all of it is saved, or none."""
    preferences_update(
        user=user,
        kinds=kinds,
        email_reminders=email_reminders,
        quiet_hours=quiet_hours,
        time_zone=time_zone,
    )
    mutes_set(user=user, people=muted_people, clubs=muted_clubs)


@transaction.atomic
def calendar_token_rotate(*, user: User) -> str:
    """A new secret for the private calendar feed; the old address stops working."""
    preferences = _preferences_for_update(user)
    preferences.calendar_token = new_calendar_token()
    preferences.save(update_fields=["calendar_token"])
    return preferences.calendar_token


@transaction.atomic
def calendar_token_revoke(*, user: User) -> bool:
    updated = (
        Preferences.objects.filter(user=user, calendar_token__isnull=False)
        .exclude(calendar_token="")
        .update(calendar_token=None)
    )
    return bool(updated)


# --- Sockets -------------------------------------------------------------------------------


def connection_open(*, user: User, channel_name: str) -> int:
    """Registers an open socket and returns the person's unread count."""
    Connection.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "last_seen": timezone.now()}
    )
    return unread_count(user=user)


def connection_refresh(*, channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name).update(last_seen=timezone.now())


def connection_close(*, channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name).delete()

"""Reads: who hears about a room, the inbox, unread counts, what a notification says."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from follows.models import Club, ClubFollow, ClubInvite, ClubMembership, Follow
from notifications.models import ClubMute, Connection, Notification, PersonMute, Preferences
from rooms.access import people_let_into
from rooms.models import Room, RoomMember, RoomRsvp
from rooms.selectors import rooms_visible_to

Kind = Notification.Kind
ACTIVE = ClubMembership.Status.ACTIVE
CALENDAR_FEED_LIMIT = 200


def _can_be_told(room: Room) -> QuerySet[User]:
    """People who may see the room (rooms.access: its visibility, bans, blocks, their
    account) and are not in it already: the rules every room notification obeys."""
    return (
        User.objects.filter(people_let_into(room))
        .exclude(pk=room.host_id)
        .exclude(Exists(RoomMember.objects.filter(room=room, user=OuterRef("pk"))))
    )


def _wants(kind: str, room: Room) -> QuerySet[User]:
    """People who turned this kind off, or muted the host or the club, are left out."""
    queryset = User.objects.exclude(
        Exists(Preferences.objects.filter(user=OuterRef("pk"), **{kind: False}))
    ).exclude(Exists(PersonMute.objects.filter(user=OuterRef("pk"), muted_id=room.host_id)))
    if room.club_id is not None:
        queryset = queryset.exclude(
            Exists(ClubMute.objects.filter(user=OuterRef("pk"), club_id=room.club_id))
        )
    return queryset


def room_audience_ids(*, room: Room, kind: str) -> list[int]:
    """Who hears that `room` started, was scheduled or starts soon, in the order they are
    told: followers of the host and co-hosts, members and followers of its club — without
    the people the rules or their own preferences leave out. A reminder goes first to those
    who asked for one ("remind me" wins over a muted kind, person or club).

    A new time or a cancellation is told to the people waiting for the room: those who
    asked to be reminded, its invitees, and whoever was told of it before (unless they
    turned that kind off)."""
    if kind in Notification.CHANGE_KINDS:
        return _waiting_ids(room=room, kind=kind)
    follows = Follow.objects.values("follower_id")
    circle = Q(pk__in=follows.filter(followee_id=room.host_id)) | Q(
        pk__in=follows.filter(followee__co_hosted_rooms=room)
    )
    if room.club_id is not None:
        circle |= Q(
            pk__in=ClubMembership.objects.filter(club_id=room.club_id, status=ACTIVE).values(
                "user_id"
            )
        )
        circle |= Q(pk__in=ClubFollow.objects.filter(club_id=room.club_id).values("user_id"))
    told = _can_be_told(room)
    followers = list(
        told.filter(circle)
        .filter(pk__in=_wants(kind, room))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if kind != Kind.ROOM_REMINDER:
        return followers
    asked = list(
        told.filter(pk__in=RoomRsvp.objects.filter(room=room).values("user_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(dict.fromkeys([*asked, *followers]))


def _waiting_ids(*, room: Room, kind: str) -> list[int]:
    """Those who asked to be reminded, the invitees, and whoever was told of the room before
    (that it was scheduled, that it starts soon): none of them should wait for it in vain."""
    waiting = (
        Q(pk__in=RoomRsvp.objects.filter(room=room).values("user_id"))
        | Q(pk__in=Room.invitees.through.objects.filter(room_id=room.pk).values("user_id"))
        | Q(pk__in=Notification.objects.filter(room=room).values("recipient_id"))
    )
    return list(
        _can_be_told(room)
        .filter(waiting)
        .exclude(Exists(Preferences.objects.filter(user=OuterRef("pk"), **{kind: False})))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def online_user_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Which of these people have a notification socket open."""
    return set(Connection.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))


def unread_count(*, user: User | int) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def unread_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Unread counts of many people in one query (people with none are left out)."""
    rows = (
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    return dict(rows)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The inbox, newest first, with everything a row shows loaded in the same query: for a
    club's invitation, whether it still waits for an answer (`invite_open`) and whether the
    person is in the club now (`in_club`)."""
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return (
        queryset.select_related("actor", "room", "club")
        .annotate(
            invite_open=Exists(ClubInvite.objects.filter(club=OuterRef("club"), user=user)),
            in_club=Exists(
                ClubMembership.objects.filter(
                    club=OuterRef("club"), user=user, status=ClubMembership.Status.ACTIVE
                )
            ),
        )
        .order_by("-created", "-pk")
    )


def preferences_of(*, user: User) -> Preferences:
    """The person's preferences, or the defaults (unsaved) when they never changed any."""
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


def muted_people(*, user: User) -> QuerySet[PersonMute]:
    return PersonMute.objects.filter(user=user).select_related("muted").order_by("muted__username")


def muted_clubs(*, user: User) -> QuerySet[ClubMute]:
    return ClubMute.objects.filter(user=user).select_related("club").order_by("club__name")


def clubs_to_mute(*, user: User) -> QuerySet[Club]:
    """The clubs whose rooms tell the person (they are a member or follow them) and that
    they may mute: not one they run (admin or leader), not one muted already."""
    mine = ClubMembership.objects.filter(club=OuterRef("pk"), user=user)
    runs = [ClubMembership.Role.ADMIN, ClubMembership.Role.LEADER]
    return (
        Club.objects.filter(
            Exists(mine.filter(status=ACTIVE))
            | Exists(ClubFollow.objects.filter(club=OuterRef("pk"), user=user))
        )
        .exclude(Exists(mine.filter(role__in=runs)))
        .exclude(Exists(ClubMute.objects.filter(user=user, club=OuterRef("pk"))))
        .order_by("name")
    )


def calendar_rooms(*, user: User) -> QuerySet[Room]:
    """Upcoming rooms of the private feed: asked to be reminded of, hosted by the person or
    by people they follow, or of clubs they belong to or follow — minus what they muted."""
    asked = RoomRsvp.objects.filter(user=user).values("room_id")
    followed = Follow.objects.filter(follower=user).values("followee_id")
    clubs = ClubMembership.objects.filter(user=user, status=ACTIVE).values("club_id")
    followed_clubs = ClubFollow.objects.filter(user=user).values("club_id")
    muted = Q(host_id__in=PersonMute.objects.filter(user=user).values("muted_id")) | Q(
        club_id__in=ClubMute.objects.filter(user=user).values("club_id")
    )
    near = Q(host_id__in=followed) | Q(club_id__in=clubs) | Q(club_id__in=followed_clubs)
    return (
        rooms_visible_to(user)
        .filter(status=Room.Status.SCHEDULED, scheduled_for__gte=timezone.now())
        .filter(Q(host=user) | Q(pk__in=asked) | near & ~muted)
        .select_related("host", "club")
        .order_by("scheduled_for", "pk")[:CALENDAR_FEED_LIMIT]
    )


# --- What a notification says ------------------------------------------------------------


def _quoted(room: Room | None) -> str:
    return f"“{room.title}”" if room is not None else "a room"


def folded_mentions_subject(actor: User, hour: int) -> str:
    """The subject of the one notification that stands for an author's mentions of someone
    past their hourly budget."""
    return f"mentions:{actor.pk}:{hour}"


def notification_text(notification: Notification) -> str:
    actor = notification.actor.name if notification.actor is not None else "Someone"
    room, club = notification.room, notification.club
    texts: dict[str, str] = {
        Kind.ROOM_STARTED: f"{actor} started {_quoted(room)}",
        Kind.ROOM_SCHEDULED: f"{actor} scheduled {_quoted(room)}",
        Kind.ROOM_REMINDER: f"{_quoted(room)} starts soon",
        Kind.NEW_FOLLOWER: f"{actor} followed you",
        Kind.SPEAKER_INVITE: f"{actor} invites you to speak in {_quoted(room)}",
        Kind.CLUB_INVITE: f"{actor} invited you to join {club.name if club else 'a club'}",
        Kind.CHAT_MENTION: f"{actor} mentioned you in the chat of {_quoted(room)}"
        + (" and elsewhere" if notification.subject.startswith("mentions:") else ""),
        Kind.ROOM_RESCHEDULED: f"{actor} moved {_quoted(room)} to a new time",
        Kind.ROOM_CANCELLED: f"{actor} cancelled {_quoted(room)}",
    }
    return texts[notification.kind]


def notification_url(notification: Notification) -> str:
    """Where the notification leads: the room, the club, or the person."""
    if notification.room is not None:
        return notification.room.get_absolute_url()
    if notification.club is not None:
        return notification.club.get_absolute_url()
    if notification.actor is not None:
        return notification.actor.get_absolute_url()
    return "/notifications/"

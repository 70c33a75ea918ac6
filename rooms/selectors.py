"""Reads of rooms: the live snapshot, audience pages, the hallway and room lists.

Lists load the stage of every room with one prefetch, so their query count does not grow
with the number of rooms.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import msgspec
from django.conf import settings
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import User
from core.db import SubqueryCount
from core.errors import ApplicationError
from follows.models import Block, Club, ClubFollow, ClubMembership, Follow
from realtime.protocol import encode, encode_part
from rooms import protocol
from rooms.access import rooms_open_to, rooms_open_to_visitors
from rooms.events import member_payload, room_payload
from rooms.models import RecordConsent, Room, RoomMember, RoomRsvp, Topic

Role = RoomMember.Role
SNAPSHOT_HANDS = 200
HALLWAY_LIVE = 30
HALLWAY_UPCOMING = 20
# A scheduled room whose host is running late stays among the upcoming ones this long.
LATE_START_GRACE = timedelta(hours=1)
STAGE_RANK = Case(
    When(role=Role.MODERATOR, then=Value(0)), default=Value(1), output_field=IntegerField()
)


def _stage(room_filter: dict[str, object]) -> QuerySet[RoomMember]:
    return (
        RoomMember.objects.filter(role__in=RoomMember.STAGE_ROLES, **room_filter)
        .select_related("user")
        .annotate(rank=STAGE_RANK)
        .order_by("rank", "joined_at", "pk")
    )


def _listeners(room_id: UUID | str) -> QuerySet[RoomMember]:
    return RoomMember.objects.filter(room_id=room_id, role=Role.LISTENER).select_related("user")


@dataclass
class _Shared:
    seq: int
    members: list[protocol.Member]
    audience_count: int
    members_text: str | None = None  # the members as JSON, once a joiner needed it


# Per process, the shared part of each room's latest snapshot (its members, the audience's
# size) and the `seq` it was read at. In a room whose audience fills the first page, joiners
# arriving between two numbered events (a join storm's, often hundreds) share one read, and
# its members are written as JSON once: a newcomer is past that page anyway (it lists the
# audience in order of arrival), and the `members.batch` that announces them brings the new
# count. Smaller rooms read afresh, so their snapshot lists the newcomer at once.
_SHARED_SNAPSHOTS: dict[str, _Shared] = {}
SHARED_SNAPSHOT_ROOMS = 1000


def _shared_snapshot(room: Room) -> tuple[list[protocol.Member], int]:
    shared = _SHARED_SNAPSHOTS.get(str(room.pk))
    if (
        shared is not None
        and shared.seq == room.seq
        and shared.audience_count >= settings.ROOM_SNAPSHOT_AUDIENCE_PAGE
    ):
        return shared.members, shared.audience_count
    stage = list(_stage({"room_id": room.pk}))
    hands = list(
        _listeners(room.pk)
        .filter(hand_raised_at__isnull=False)
        .order_by("hand_raised_at")[:SNAPSHOT_HANDS]
    )
    audience = list(
        _listeners(room.pk)
        .filter(hand_raised_at__isnull=True)
        .order_by("joined_at", "pk")[: settings.ROOM_SNAPSHOT_AUDIENCE_PAGE]
    )
    members = [member_payload(m) for m in stage + hands + audience]
    audience_count = _listeners(room.pk).count()
    if len(_SHARED_SNAPSHOTS) >= SHARED_SNAPSHOT_ROOMS:
        _SHARED_SNAPSHOTS.clear()
    _SHARED_SNAPSHOTS[str(room.pk)] = _Shared(room.seq, members, audience_count)
    return members, audience_count


_EMPTY_MEMBERS = '"members":[]'


def room_snapshot_text(snapshot: protocol.RoomSnapshot) -> str:
    """`encode(snapshot)`, with members shared by the room's joiners written once."""
    shared = _SHARED_SNAPSHOTS.get(snapshot.room.id)
    if shared is None or shared.members is not snapshot.members:
        return encode(snapshot)
    if shared.members_text is None:
        shared.members_text = encode_part(shared.members)
    head, _, tail = encode(msgspec.structs.replace(snapshot, members=[])).partition(_EMPTY_MEMBERS)
    # Quotes inside JSON strings are escaped: the text has the key once, at the top.
    return f'{head}"members":{shared.members_text}{tail}'


def room_snapshot(*, room_id: UUID | str, user: User) -> protocol.RoomSnapshot:
    """The first frame of a connection: the room, the stage in full, raised hands in order,
    the first page of the audience and its size, the reader's own member, and which members
    the reader blocked."""
    # The number is read before the members: any event after it is applied on top, and
    # every event is safe to apply twice.
    room = Room.objects.select_related("club").get(pk=room_id)
    mine = RoomMember.objects.select_related("user").filter(room_id=room_id, user=user).first()
    return room_snapshot_of(room=room, user=user, me=mine)


def _blocked_here(*, room: Room, user: User, among: set[int] | None) -> list[int]:
    """The members of `room` whom `user` blocked (of `among`, when known)."""
    blocks = Block.objects.filter(blocker=user, blocked__room_presences__room_id=room.pk)
    if among is not None:
        blocks = blocks.filter(blocked_id__in=among)
    return list(blocks.order_by("blocked_id").values_list("blocked_id", flat=True))


def room_snapshot_of(
    *, room: Room, user: User, me: RoomMember | None, blocked: set[int] | None = None
) -> protocol.RoomSnapshot:
    """`room_snapshot` for a room read already (with its club), the reader's member, and,
    when known, everyone the reader blocked: a join has all three at hand."""
    members, audience_count = _shared_snapshot(room)
    return protocol.RoomSnapshot(
        seq=room.seq,
        room=room_payload(room),
        media=protocol.MediaInfo(mode=room.media),
        members=members,
        audience_count=audience_count,
        me=member_payload(me) if me is not None else None,
        you_blocked=[] if blocked == set() else _blocked_here(room=room, user=user, among=blocked),
        # Asked while the room records, and of anyone on stage (whose consent stands when
        # recording starts again); a listener's join is spared the query.
        record_consent=(room.recording or (me is not None and me.on_stage))
        and RecordConsent.objects.filter(room=room, user=user).exists(),
        numbered=protocol.ROOM.numbered,
    )


def audience_page(*, room_id: UUID | str, offset: int) -> protocol.AudiencePage:
    """More of the audience (without raised hands), in the order they came in."""
    size = settings.ROOM_SNAPSHOT_AUDIENCE_PAGE
    page = list(
        _listeners(room_id)
        .filter(hand_raised_at__isnull=True)
        .order_by("joined_at", "pk")[offset : offset + size]
    )
    return protocol.AudiencePage(
        offset=offset,
        members=[member_payload(m) for m in page],
        audience_count=_listeners(room_id).count(),
    )


FOLLOWED_BY_STAGE_LIMIT = 500


def followed_by_stage(*, room_id: UUID | str) -> list[int]:
    """Listeners whom someone on stage follows: the room's "followed by the speakers"."""
    return list(
        Follow.objects.filter(
            follower__in=RoomMember.objects.filter(
                room_id=room_id, role__in=RoomMember.STAGE_ROLES
            ).values("user"),
            followee__in=_listeners(room_id).values("user"),
        )
        .order_by("followee_id")
        .values_list("followee_id", flat=True)
        .distinct()[:FOLLOWED_BY_STAGE_LIMIT]
    )


def rooms_visible_to(viewer: User | None) -> QuerySet[Room]:
    """Rooms the viewer (None: someone signed out) may see in lists (rooms.access has the
    rule)."""
    if viewer is None:
        return Room.objects.filter(rooms_open_to_visitors())
    return Room.objects.filter(rooms_open_to(viewer.pk))


def _relevance(viewer: User) -> Case:
    """0 for rooms of people and clubs the viewer follows or belongs to, else 1.

    A social or closed room that the viewer may see at all was opened to them (a moderator
    follows them, they were invited, they are in the club), so it counts as theirs.
    """
    followed = Follow.objects.filter(follower=viewer)
    close = (
        ~Q(visibility=Room.Visibility.OPEN)
        | Q(host=viewer)
        | Exists(followed.filter(followee=OuterRef("host")))
        | Exists(
            followed.filter(
                followee__room_presences__room=OuterRef("pk"),
                followee__room_presences__role__in=RoomMember.STAGE_ROLES,
            )
        )
        | Exists(followed.filter(followee__co_hosted_rooms=OuterRef("pk")))
        | Exists(
            ClubMembership.objects.filter(
                club=OuterRef("club"), user=viewer, status=ClubMembership.Status.ACTIVE
            )
        )
        | Exists(ClubFollow.objects.filter(club=OuterRef("club"), user=viewer))
        | Exists(Room.invitees.through.objects.filter(room=OuterRef("pk"), user=viewer))
        | Exists(RoomRsvp.objects.filter(room=OuterRef("pk"), user=viewer))
    )
    return Case(When(close, then=Value(0)), default=Value(1), output_field=IntegerField())


def room_list_annotated(queryset: QuerySet[Room], viewer: User | None) -> QuerySet[Room]:
    """What a room card shows: stage, counts, followed people inside, the viewer's RSVP
    (someone signed out follows nobody and asked for no reminder)."""
    followed = (
        RoomMember.objects.none()
        if viewer is None
        else RoomMember.objects.filter(
            user__in=Follow.objects.filter(follower=viewer).values("followee")
        ).select_related("user")
    )
    return (
        queryset.select_related("host", "club")
        .annotate(
            listener_count=SubqueryCount(
                RoomMember.objects.filter(room=OuterRef("pk"), role=Role.LISTENER)
            ),
            rsvp_count=SubqueryCount(RoomRsvp.objects.filter(room=OuterRef("pk"))),
            you_rsvp=Exists(RoomRsvp.objects.filter(room=OuterRef("pk"), user=viewer))
            if viewer is not None
            else Value(False),
        )
        .prefetch_related(
            "topics",
            Prefetch("members", queryset=_stage({}), to_attr="stage_members"),
            Prefetch("members", queryset=followed, to_attr="followed_members"),
        )
    )


def hallway(*, viewer: User, topic: Topic | None = None, language: str | None = None) -> dict:
    """Live rooms (people and clubs the viewer follows first, then other open rooms), then
    upcoming ones in time order; only those about `topic` and held in `language` when given."""
    visible = rooms_visible_to(viewer).annotate(relevance=_relevance(viewer))
    if topic is not None:
        visible = visible.filter(topics=topic)
    if language:
        visible = visible.filter(language=language)
    live = room_list_annotated(visible.filter(status=Room.Status.LIVE), viewer).order_by(
        "relevance", "-listener_count", "-started_at"
    )[:HALLWAY_LIVE]
    upcoming = room_list_annotated(
        visible.filter(
            status=Room.Status.SCHEDULED, scheduled_for__gte=timezone.now() - LATE_START_GRACE
        ),
        viewer,
    ).order_by("scheduled_for", "pk")[:HALLWAY_UPCOMING]
    return {"live": list(live), "upcoming": list(upcoming)}


def topic_list() -> QuerySet[Topic]:
    """The curated topics, by name."""
    return Topic.objects.order_by("name")


def topics_get(*, slugs: list[str]) -> list[Topic]:
    """The topics with these slugs, in the order given; an unknown one is not found (404),
    as anything else a request names."""
    found = {topic.slug: topic for topic in Topic.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in dict.fromkeys(slugs) if slug not in found]
    if unknown:
        raise ApplicationError.not_found(f"There is no topic {', '.join(unknown)}.")
    return [found[slug] for slug in dict.fromkeys(slugs)]


def room_list(
    *,
    viewer: User | None,
    status: str | None = None,
    club: Club | None = None,
    host: User | None = None,
) -> QuerySet[Room]:
    rooms = rooms_visible_to(viewer)
    if status:
        rooms = rooms.filter(status=status)
    if club is not None:
        rooms = rooms.filter(club=club)
    if host is not None:
        rooms = rooms.filter(host=host)
    order = Case(
        When(status=Room.Status.LIVE, then=Value(0)),
        When(status=Room.Status.SCHEDULED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        room_list_annotated(rooms, viewer)
        .annotate(order=order)
        .order_by("order", "scheduled_for", "-started_at", "-created")
    )


def room_get(*, room_id: UUID | str, viewer: User | None) -> Room:
    """A room the viewer (None: someone signed out) may see; others are not found (closed
    rooms stay private)."""
    room = room_list_annotated(rooms_visible_to(viewer).filter(pk=room_id), viewer).first()
    if room is None:
        raise ApplicationError.not_found("There is no such room, or it is not open to you.")
    return room


def room_list_current(
    *,
    viewer: User | None,
    club: Club | None = None,
    host: User | None = None,
    limit: int = HALLWAY_UPCOMING,
) -> list[Room]:
    """Live rooms, then upcoming ones (a late host's room among them), of one club or host."""
    rooms = room_list(viewer=viewer, club=club, host=host).filter(current_rooms())
    return list(rooms[:limit])


def current_rooms() -> Q:
    """Over rooms: live ones and upcoming ones, a late host's among them (not ended, not
    scheduled and long past)."""
    return Q(status=Room.Status.LIVE) | Q(
        status=Room.Status.SCHEDULED, scheduled_for__gte=timezone.now() - LATE_START_GRACE
    )

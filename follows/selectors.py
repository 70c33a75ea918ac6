"""Reads of the follow graph and clubs, shaped for lists with a fixed number of queries."""

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from accounts.models import User
from core.compiled import Compiled
from core.db import SubqueryCount, exists_for
from core.errors import ApplicationError
from follows.models import Block, Club, ClubBan, ClubFollow, ClubInvite, ClubMembership, Follow

Status = ClubMembership.Status
Role = ClubMembership.Role


def _viewer_follows(viewer: User | AnonymousUser | None, person_ref: str) -> Exists | Value:
    return exists_for(
        viewer, lambda v: Follow.objects.filter(follower=v, followee=OuterRef(person_ref))
    )


def blocked_ids(*, blocker: User) -> set[int]:
    """The people `blocker` blocked (every socket that opens asks)."""
    return {blocked for (blocked,) in _BLOCKED.rows(blocker_id=blocker.pk)}


_BLOCKED = Compiled(
    lambda blocker_id: Block.objects.filter(blocker_id=blocker_id).values_list("blocked_id"),
    blocker_id=BigIntegerField(),
)


def followers_list(*, user: User, viewer: User | AnonymousUser | None) -> QuerySet[Follow]:
    """Follow rows pointing at `user`, newest first, each with the follower loaded."""
    return (
        Follow.objects.filter(followee=user, follower__is_active=True)
        .select_related("follower")
        .annotate(viewer_follows=_viewer_follows(viewer, "follower"))
        .order_by("-created", "-pk")
    )


def following_list(*, user: User, viewer: User | AnonymousUser | None) -> QuerySet[Follow]:
    """Follow rows from `user`, newest first, each with the followee loaded."""
    return (
        Follow.objects.filter(follower=user, followee__is_active=True)
        .select_related("followee")
        .annotate(viewer_follows=_viewer_follows(viewer, "followee"))
        .order_by("-created", "-pk")
    )


def _clubs_annotated(viewer: User | AnonymousUser | None) -> QuerySet[Club]:
    viewer_membership = (
        ClubMembership.objects.filter(club=OuterRef("pk"), user=viewer)
        if viewer is not None and viewer.is_authenticated
        else ClubMembership.objects.none()
    )
    return Club.objects.annotate(
        member_count=SubqueryCount(
            ClubMembership.objects.filter(club=OuterRef("pk"), status=Status.ACTIVE)
        ),
        follower_count=SubqueryCount(ClubFollow.objects.filter(club=OuterRef("pk"))),
        viewer_status=Subquery(viewer_membership.values("status")[:1]),
        viewer_role=Subquery(viewer_membership.values("role")[:1]),
        viewer_follows=exists_for(
            viewer, lambda v: ClubFollow.objects.filter(club=OuterRef("pk"), user=v)
        ),
        viewer_invited=exists_for(
            viewer, lambda v: ClubInvite.objects.filter(club=OuterRef("pk"), user=v)
        ),
    ).select_related("owner", "owner_offered_to")


def club_list(*, viewer: User | AnonymousUser | None) -> QuerySet[Club]:
    return _clubs_annotated(viewer).order_by("-member_count", "name")


def club_get(*, slug: str, viewer: User | AnonymousUser | None = None) -> Club:
    club = _clubs_annotated(viewer).filter(slug=slug.lower()).first()
    if club is None:
        raise ApplicationError.not_found(f"There is no club at /clubs/{slug}/.")
    return club


def club_members(*, club: Club, status: str = Status.ACTIVE) -> QuerySet[ClubMembership]:
    """Admins first, then leaders, then members, each group by when they joined."""
    rank = Case(
        When(role=Role.ADMIN, then=Value(0)),
        When(role=Role.LEADER, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        ClubMembership.objects.filter(club=club, status=status, user__is_active=True)
        .select_related("user")
        .annotate(rank=rank)
        .order_by("rank", "created", "pk")
    )


def clubs_of(*, user: User) -> QuerySet[Club]:
    """Clubs where the person is an active member."""
    return Club.objects.filter(memberships__user=user, memberships__status=Status.ACTIVE).order_by(
        "name"
    )


def club_bans(*, club: Club) -> QuerySet[ClubBan]:
    """People banned from the club, newest first."""
    return (
        ClubBan.objects.filter(club=club)
        .select_related("user", "banned_by")
        .order_by("-created", "-pk")
    )


def clubs_led_by(*, user: User) -> QuerySet[Club]:
    """Clubs where the person is an active admin or leader: those they may host rooms for."""
    return Club.objects.filter(
        memberships__user=user,
        memberships__status=Status.ACTIVE,
        memberships__role__in=[Role.ADMIN, Role.LEADER],
    ).order_by("name")


def user_profile_get(*, username: str, viewer: User | AnonymousUser) -> User:
    """The person with counts and how they relate to the viewer, in one query."""
    user = (
        User.objects.filter(username__iexact=username, is_active=True)
        .annotate(
            follower_count=SubqueryCount(Follow.objects.filter(followee=OuterRef("pk"))),
            following_count=SubqueryCount(Follow.objects.filter(follower=OuterRef("pk"))),
            viewer_follows=exists_for(
                viewer, lambda v: Follow.objects.filter(follower=v, followee=OuterRef("pk"))
            ),
            follows_viewer=exists_for(
                viewer, lambda v: Follow.objects.filter(follower=OuterRef("pk"), followee=v)
            ),
            viewer_blocked=exists_for(
                viewer, lambda v: Block.objects.filter(blocker=v, blocked=OuterRef("pk"))
            ),
            blocked_viewer=exists_for(
                viewer, lambda v: Block.objects.filter(blocker=OuterRef("pk"), blocked=v)
            ),
        )
        .first()
    )
    if user is None:
        raise ApplicationError.not_found(f"There is no one called @{username} here.")
    return user


def people_visible_to(viewer: User) -> QuerySet[User]:
    """People the viewer may find: active accounts, none blocked either way. Each carries
    `you_follow`."""
    return (
        User.objects.filter(is_active=True, banned_at__isnull=True)
        .exclude(blocks_made__blocked=viewer)
        .exclude(blocks_received__blocker=viewer)
        .annotate(you_follow=_viewer_follows(viewer, "pk"))
    )


# Suggestions are ranked among a few candidates, not over everyone: the people most followed
# by those the viewer follows, the most followed overall and the newest. Counting followers
# for every person on the site cost 430 ms a hallway view at 100,000 people.
SUGGESTION_CANDIDATES = 50
POPULAR_CACHE_SECONDS = 600


def _most_followed_ids() -> list[int]:
    """The most followed people, the same for everyone: counted every POPULAR_CACHE_SECONDS."""

    def count() -> list[int]:
        return list(
            Follow.objects.values("followee")
            .annotate(followers=Count("pk"))
            .order_by("-followers", "followee")
            .values_list("followee", flat=True)[:SUGGESTION_CANDIDATES]
        )

    return cache.get_or_set("follows:most-followed", count, POPULAR_CACHE_SECONDS) or []


def user_suggestions(*, viewer: User, limit: int = 6) -> QuerySet[User]:
    """People to follow: those followed by the most people the viewer follows, then the most
    followed overall, then the newest; never the viewer, people they follow, staff, or anyone
    blocked either way. One query (and one more every POPULAR_CACHE_SECONDS).

    Each carries `followed_by_yours` (how many of the people the viewer follows follow them)
    and `follower_count`."""
    yours = Follow.objects.filter(follower=viewer).values("followee")
    near = (
        Follow.objects.filter(follower__in=yours)
        .values("followee")
        .annotate(followers=Count("pk"))
        .order_by("-followers", "followee")
        .values("followee")[:SUGGESTION_CANDIDATES]
    )
    newest = User.objects.filter(is_active=True).order_by("-pk").values("pk")
    candidates = (
        Q(pk__in=near) | Q(pk__in=_most_followed_ids()) | Q(pk__in=newest[:SUGGESTION_CANDIDATES])
    )
    return (
        people_visible_to(viewer)
        .filter(candidates)
        .filter(is_staff=False)
        .exclude(pk=viewer.pk)
        .exclude(follower_set__follower=viewer)
        .annotate(
            followed_by_yours=SubqueryCount(
                Follow.objects.filter(followee=OuterRef("pk"), follower__in=yours)
            ),
            follower_count=SubqueryCount(Follow.objects.filter(followee=OuterRef("pk"))),
        )
        .order_by("-followed_by_yours", "-follower_count", "username")[:limit]
    )


def people_to_pick(
    *, viewer: User, followers_only: bool = False, limit: int = 200
) -> QuerySet[User]:
    """Suggestions for a people picker: whom the viewer follows and who follows them; only
    the latter with `followers_only` (a room's co-hosts and invitees must follow its host)."""
    followers = Follow.objects.filter(followee=viewer).values_list("follower_id", flat=True)
    near = followers
    if not followers_only:
        followed = Follow.objects.filter(follower=viewer).values_list("followee_id", flat=True)
        near = followed.union(followers)
    return User.objects.filter(pk__in=near, is_active=True).order_by("username")[:limit]

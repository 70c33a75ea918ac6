"""Who may do what with people and clubs: the checks services call first."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import User
from core.errors import ApplicationError
from core.text import name_key
from follows.models import Block, Club, ClubMembership


def users_blocked_between(a: User, b: User) -> bool:
    """True when either person blocked the other."""
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


def follow_lists_visible(*, user: User, viewer: User | AnonymousUser) -> None:
    """Raises unless `viewer` may see who follows `user` and whom `user` follows: not when
    `user` blocked them (the profile pages hide the lists the same way)."""
    if viewer.is_authenticated and Block.objects.filter(blocker=user, blocked=viewer).exists():
        raise ApplicationError.forbidden(
            f"@{user.username} blocked you: their followers and who they follow are hidden."
        )


def club_membership_as_admin(*, user: User, club: Club) -> ClubMembership:
    """The actor's membership, when it lets them run the club; otherwise a 403."""
    membership = ClubMembership.objects.filter(
        club=club,
        user=user,
        status=ClubMembership.Status.ACTIVE,
        role=ClubMembership.Role.ADMIN,
    ).first()
    if membership is None:
        raise ApplicationError.forbidden(f"Only admins of {club.name} can do that.")
    return membership


def club_leads(*, user: User, club: Club) -> bool:
    """Admins and leaders may schedule rooms for the club."""
    return ClubMembership.objects.filter(
        club=club,
        user=user,
        status=ClubMembership.Status.ACTIVE,
        role__in=[ClubMembership.Role.ADMIN, ClubMembership.Role.LEADER],
    ).exists()


def club_as_owner(*, user: User, club: Club) -> None:
    """Only the owner hands a club over or deletes it."""
    if club.owner_id is None or club.owner_id != user.pk:
        raise ApplicationError.forbidden(f"Only the owner of {club.name} can do that.")


def club_name_free(*, name: str, club: Club | None = None) -> None:
    """Raises unless no other club has this name or one that looks like it: another case,
    look-alike letters of another script, fullwidth letters, invisible characters
    (core.text.name_key)."""
    others = Club.objects.filter(name_key=name_key(name))
    if club is not None:
        others = others.exclude(pk=club.pk)
    if others.exists():
        raise ApplicationError(
            f"A club named {name} already exists.", code="name_taken", status=409
        )


def club_member_not_owner(*, club: Club, user: User) -> None:
    """The owner's place is changed only by handing the club over."""
    if club.owner_id == user.pk:
        raise ApplicationError.conflict(
            f"{user.username} owns {club.name}; the owner hands the club over first."
        )

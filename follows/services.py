"""Writes to the follow graph and clubs. Every rule about who may do what is checked here."""

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.avatars import avatar_from_upload
from accounts.models import User
from core.errors import ApplicationError
from core.text import tidy_name
from follows import signals
from follows.models import Block, Club, ClubBan, ClubFollow, ClubInvite, ClubMembership, Follow
from follows.permissions import (
    club_as_owner,
    club_member_not_owner,
    club_membership_as_admin,
    club_name_free,
    users_blocked_between,
)

Role = ClubMembership.Role
Status = ClubMembership.Status
# A CharField always has its max_length.
CLUB_BAN_REASON_MAX_LENGTH = cast(int, ClubBan._meta.get_field("reason").max_length)
_UNSET: Any = object()


@transaction.atomic
def follow_create(*, follower: User, followee: User) -> tuple[Follow, bool]:
    """Follows someone; following again is harmless. Returns (follow, created)."""
    if follower.pk == followee.pk:
        raise ApplicationError("You cannot follow yourself.", code="self_follow", status=403)
    if Block.objects.filter(blocker=followee, blocked=follower).exists():
        raise ApplicationError.forbidden(f"You cannot follow {followee.username}.")
    if Block.objects.filter(blocker=follower, blocked=followee).exists():
        raise ApplicationError(
            f"You blocked {followee.username}; unblock them before following.", code="blocked"
        )
    follow, created = Follow.objects.get_or_create(follower=follower, followee=followee)
    if created:
        signals.followed.send(Follow, follower=follower, followee=followee)
    return follow, created


@transaction.atomic
def follow_delete(*, follower: User, followee: User) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    return bool(deleted)


@transaction.atomic
def block_create(*, blocker: User, blocked: User) -> tuple[Block, bool]:
    """Blocks someone: removes the follows between the two, both ways, and takes the
    blocked person out of the live rooms the blocker moderates."""
    if blocker.pk == blocked.pk:
        raise ApplicationError("You cannot block yourself.", code="self_block", status=403)
    block, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    Follow.objects.filter(follower=blocker, followee=blocked).delete()
    Follow.objects.filter(follower=blocked, followee=blocker).delete()
    signals.blocked.send(Block, blocker=blocker, blocked=blocked)
    return block, created


@transaction.atomic
def block_delete(*, blocker: User, blocked: User) -> bool:
    deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return bool(deleted)


def _free_slug(name: str) -> str:
    base = slugify(name)[:40].strip("-") or "club"
    slug, n = base, 1
    while Club.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def club_create(
    *, creator: User, name: str, slug: str = "", description: str = "", join_policy: str = "open"
) -> Club:
    """Creates a club with its creator as the owner and first admin."""
    name = tidy_name(name)
    club = Club(
        name=name,
        slug=slug.strip().lower() or _free_slug(name),
        description=description.strip(),
        join_policy=join_policy,
        created_by=creator,
        owner=creator,
    )
    club_name_free(name=club.name)
    club.full_clean()
    _save_named(club)
    ClubMembership.objects.create(club=club, user=creator, role=Role.ADMIN, status=Status.ACTIVE)
    return club


def _save_named(club: Club) -> None:
    """Saves a club; a name taken meanwhile by another request is the same clear error."""
    try:
        with transaction.atomic():
            club.save()
    except IntegrityError:
        club_name_free(name=club.name, club=club if club.pk else None)
        raise


@transaction.atomic
def club_update(
    *,
    actor: User,
    club: Club,
    name: str | None = None,
    description: str | None = None,
    join_policy: str | None = None,
    picture: File | None = _UNSET,
) -> Club:
    """An admin changes what is given; `picture=None` removes the picture."""
    club_membership_as_admin(user=actor, club=club)
    club = Club.objects.select_for_update().get(pk=club.pk)
    if name is not None:
        club.name = tidy_name(name)
        club_name_free(name=club.name, club=club)
    if description is not None:
        club.description = description.strip()
    if join_policy is not None:
        club.join_policy = join_policy
    old_picture = club.picture.name if club.picture else ""
    if picture is None:
        club.picture = ""
    elif picture is not _UNSET:
        try:
            club.picture = avatar_from_upload(picture)
        except ValidationError as error:
            raise ValidationError({"picture": error.messages}) from error
    club.full_clean(exclude=["picture"])
    _save_named(club)
    new_picture = club.picture.name if club.picture else ""
    if old_picture and old_picture != new_picture:
        storage = club.picture.storage
        transaction.on_commit(lambda: storage.delete(old_picture))
    return club


def _future_owner(*, club: Club, owner: User | None, user: User) -> ClubMembership:
    """The membership of the person the club would pass to: an active member, with no block
    between them and the owner."""
    membership = ClubMembership.objects.select_for_update().filter(club=club, user=user).first()
    if membership is None or not membership.is_active:
        raise ApplicationError.conflict(
            f"{user.username} is not a member of {club.name}; only members can own it."
        )
    if owner is not None and users_blocked_between(owner, user):
        raise ApplicationError.forbidden(
            f"{club.name} cannot pass between you and {user.username}."
        )
    return membership


@transaction.atomic
def club_ownership_offer(*, actor: User, club: Club, user: User | None) -> Club:
    """The owner offers the club to an active member, who owns it once they accept
    (`club_ownership_answer`); None withdraws the offer. Owning a club is a responsibility
    nobody is handed without saying yes (and never across a block)."""
    club = Club.objects.select_for_update().get(pk=club.pk)
    club_as_owner(user=actor, club=club)
    if user is not None:
        if user.pk == actor.pk:
            raise ApplicationError("You own the club already.", code="self_transfer")
        _future_owner(club=club, owner=actor, user=user)
    club.owner_offered_to = user
    club.save(update_fields=["owner_offered_to"])
    return club


@transaction.atomic
def club_ownership_answer(*, user: User, club: Club, accept: bool) -> Club:
    """The member offered the club accepts it (they become its owner, and an admin if they
    were not; the old owner stays an admin) or declines it."""
    club = Club.objects.select_for_update(of=("self",)).select_related("owner").get(pk=club.pk)
    if club.owner_offered_to_id != user.pk:
        raise ApplicationError.conflict(f"Nobody offered you {club.name}.")
    club.owner_offered_to = None
    if accept:
        membership = _future_owner(club=club, owner=club.owner, user=user)
        if membership.role != Role.ADMIN:
            membership.role = Role.ADMIN
            membership.save(update_fields=["role"])
        club.owner = user
    club.save(update_fields=["owner", "owner_offered_to"])
    return club


@transaction.atomic
def club_delete(*, actor: User, club: Club) -> None:
    """The owner deletes the club: its scheduled rooms are cancelled first (the apps above
    hear `club_deleting`), then the club with its memberships, follows, invites and bans."""
    club = Club.objects.select_for_update().get(pk=club.pk)
    club_as_owner(user=actor, club=club)
    signals.club_deleting.send(Club, actor=actor, club=club)
    picture = club.picture.name if club.picture else ""
    storage = club.picture.storage
    club.delete()
    if picture:
        transaction.on_commit(lambda: storage.delete(picture))


@transaction.atomic
def club_join(*, user: User, club: Club) -> ClubMembership:
    """Joins at once where the club is open or an admin invited the person; otherwise asks
    the admins (pending)."""
    _not_banned(user=user, club=club)
    existing = ClubMembership.objects.filter(club=club, user=user).first()
    if existing is not None:
        if existing.is_active:
            raise ApplicationError.conflict(f"You are already a member of {club.name}.")
        raise ApplicationError.conflict(
            f"Your request to join {club.name} is waiting for an admin's approval."
        )
    invited, _ = ClubInvite.objects.filter(club=club, user=user).delete()
    approval = club.join_policy == Club.JoinPolicy.APPROVAL and not invited
    status = Status.PENDING if approval else Status.ACTIVE
    return ClubMembership.objects.create(club=club, user=user, role=Role.MEMBER, status=status)


def _not_banned(*, user: User, club: Club) -> None:
    if ClubBan.objects.filter(club=club, user=user).exists():
        raise ApplicationError.forbidden(f"An admin of {club.name} banned you from this club.")


@transaction.atomic
def club_invite_create(*, actor: User, club: Club, user: User) -> tuple[ClubInvite, bool]:
    """An admin invites someone; joining then skips approval. They are notified once."""
    club_membership_as_admin(user=actor, club=club)
    if user.pk == actor.pk:
        raise ApplicationError("You are in the club already.", code="self_invite")
    if users_blocked_between(actor, user):
        raise ApplicationError.forbidden(f"You cannot invite {user.username}.")
    if ClubBan.objects.filter(club=club, user=user).exists():
        raise ApplicationError.conflict(
            f"{user.username} is banned from {club.name}; lift the ban before inviting them."
        )
    membership = ClubMembership.objects.filter(club=club, user=user).first()
    if membership is not None and membership.is_active:
        raise ApplicationError.conflict(f"{user.username} is already a member of {club.name}.")
    if membership is not None:
        raise ApplicationError.conflict(
            f"{user.username} asked to join already; approve their request instead."
        )
    invite, created = ClubInvite.objects.get_or_create(
        club=club, user=user, defaults={"invited_by": actor}
    )
    signals.club_invited.send(ClubInvite, actor=actor, user=user, club=club)
    return invite, created


@transaction.atomic
def club_invite_decline(*, user: User, club: Club) -> None:
    """The invited person says no; they may still ask to join later."""
    deleted, _ = ClubInvite.objects.filter(club=club, user=user).delete()
    if not deleted:
        raise ApplicationError.not_found(f"You have no invitation to {club.name}.")


def _last_admin(membership: ClubMembership) -> bool:
    if membership.role != Role.ADMIN or not membership.is_active:
        return False
    return not (
        ClubMembership.objects.filter(club=membership.club, role=Role.ADMIN, status=Status.ACTIVE)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def club_leave(*, user: User, club: Club) -> None:
    """Leaves a club or withdraws a request. The last admin must hand over first."""
    membership = ClubMembership.objects.select_for_update().filter(club=club, user=user).first()
    if membership is None:
        raise ApplicationError.not_found(f"You are not a member of {club.name}.")
    others = ClubMembership.objects.filter(club=club, status=Status.ACTIVE).exclude(user=user)
    if club.owner_id == user.pk and others.exists():
        raise ApplicationError.conflict(
            f"You own {club.name}; hand it over to another member before you leave."
        )
    if _last_admin(membership) and others.exists():
        raise ApplicationError.conflict(
            f"You are the last admin of {club.name}; make another member an admin first."
        )
    membership.delete()


def _membership_of(*, club: Club, user: User) -> ClubMembership:
    membership = ClubMembership.objects.select_for_update().filter(club=club, user=user).first()
    if membership is None:
        raise ApplicationError.not_found(f"{user.username} is not a member of {club.name}.")
    return membership


@transaction.atomic
def club_membership_approve(*, actor: User, club: Club, user: User) -> ClubMembership:
    club_membership_as_admin(user=actor, club=club)
    membership = _membership_of(club=club, user=user)
    if membership.is_active:
        raise ApplicationError.conflict(f"{user.username} is already a member.")
    membership.status = Status.ACTIVE
    membership.save(update_fields=["status"])
    return membership


@transaction.atomic
def club_member_remove(*, actor: User, club: Club, user: User) -> None:
    """An admin turns down a request or removes a member (never the owner)."""
    club_membership_as_admin(user=actor, club=club)
    club_member_not_owner(club=club, user=user)
    membership = _membership_of(club=club, user=user)
    if _last_admin(membership):
        raise ApplicationError.conflict("A club keeps at least one admin.")
    membership.delete()


@transaction.atomic
def club_member_set_role(*, actor: User, club: Club, user: User, role: str) -> ClubMembership:
    club_membership_as_admin(user=actor, club=club)
    if role not in Role.values:
        raise ApplicationError(f"A role is one of: {', '.join(Role.values)}.")
    club_member_not_owner(club=club, user=user)
    membership = _membership_of(club=club, user=user)
    if not membership.is_active:
        raise ApplicationError.conflict(f"Approve {user.username} before giving them a role.")
    if role != Role.ADMIN and _last_admin(membership):
        raise ApplicationError.conflict("A club keeps at least one admin.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def club_follow_create(*, user: User, club: Club) -> tuple[ClubFollow, bool]:
    _not_banned(user=user, club=club)
    return ClubFollow.objects.get_or_create(user=user, club=club)


@transaction.atomic
def club_follow_delete(*, user: User, club: Club) -> bool:
    deleted, _ = ClubFollow.objects.filter(user=user, club=club).delete()
    return bool(deleted)


@transaction.atomic
def club_ban(*, actor: User, club: Club, user: User, reason: str = "") -> tuple[ClubBan, bool]:
    """An admin bans someone from the club and all of its rooms: their membership (or
    request) and club follow go, they leave the club's live rooms, and they cannot join,
    follow or enter again until the ban is lifted. Returns (ban, created)."""
    club_membership_as_admin(user=actor, club=club)
    if user.pk == actor.pk:
        raise ApplicationError("You cannot ban yourself.", code="self_ban")
    club_member_not_owner(club=club, user=user)
    reason = reason.strip()
    if len(reason) > CLUB_BAN_REASON_MAX_LENGTH:
        raise ApplicationError(f"Keep the reason under {CLUB_BAN_REASON_MAX_LENGTH} characters.")
    membership = ClubMembership.objects.select_for_update().filter(club=club, user=user).first()
    if membership is not None and membership.role == Role.ADMIN and membership.is_active:
        raise ApplicationError.forbidden(
            f"{user.username} is an admin of {club.name}; make them a member before banning them."
        )
    ban, created = ClubBan.objects.get_or_create(
        club=club, user=user, defaults={"banned_by": actor, "reason": reason}
    )
    if not created:
        return ban, False
    ClubMembership.objects.filter(club=club, user=user).delete()
    ClubFollow.objects.filter(club=club, user=user).delete()
    signals.club_banned.send(ClubBan, actor=actor, club=club, user=user, reason=reason)
    return ban, True


@transaction.atomic
def club_unban(*, actor: User, club: Club, user: User) -> None:
    club_membership_as_admin(user=actor, club=club)
    deleted, _ = ClubBan.objects.filter(club=club, user=user).delete()
    if not deleted:
        raise ApplicationError.not_found(f"{user.username} is not banned from {club.name}.")
    signals.club_unbanned.send(ClubBan, actor=actor, club=club, user=user)

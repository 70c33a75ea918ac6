"""Who may enter a room and who may act in it: the checks every room service calls first."""

import time
from collections.abc import Iterable

from django.conf import settings

from accounts.models import User
from core.cache import cache_count
from core.errors import ApplicationError
from follows.models import Block, ClubMembership, Follow
from follows.permissions import users_blocked_between
from rooms.access import room_entry_verdict, room_moderator_ids, room_refusal
from rooms.models import Room, RoomMember

Role = RoomMember.Role


def room_is_host_or_co_host(*, user: User, room: Room) -> bool:
    return user.pk == room.host_id or room.co_hosts.filter(pk=user.pk).exists()


def room_access_to_manage(*, user: User, room: Room) -> None:
    """Raises unless `user` may edit, start or cancel the scheduled `room`: its host and
    co-hosts."""
    if not room_is_host_or_co_host(user=user, room=room):
        raise ApplicationError.forbidden("Only the host and co-hosts can change this room.")


def room_co_hosts_allowed(*, host: User, co_hosts: Iterable[User]) -> None:
    """Raises unless every co-host agreed, in effect, to have their name on `host`'s rooms:
    a co-host moderates and their followers hear about the room, so only someone who
    follows the host may be named, and never across a block."""
    for person in co_hosts:
        if users_blocked_between(host, person):
            raise ApplicationError.forbidden(f"You cannot make @{person.username} a co-host.")
        if not Follow.objects.filter(follower=person, followee=host).exists():
            raise ApplicationError.forbidden(
                f"@{person.username} does not follow you: only people who follow you can "
                "co-host your rooms."
            )


def room_invitees_allowed(*, host: User, invitees: Iterable[User], club_id: int | None) -> None:
    """Raises unless each person may be invited by `host`: an invitation tells them (a
    notification, a push), so only people who chose to hear from the host, by following
    them or by belonging to the room's club, and never across a block."""
    invitees = list(invitees)
    related = _related_to(inviter=host, people=invitees, club_id=club_id)
    for person in invitees:
        if users_blocked_between(host, person):
            raise ApplicationError.forbidden(f"You cannot invite @{person.username}.")
        if person.pk not in related:
            raise ApplicationError(
                f"@{person.username} does not follow you"
                + (" and is not in this room's club" if club_id else "")
                + ": you can invite only people who follow you"
                + (" or belong to the club." if club_id else "."),
                code="not_related",
                status=403,
            )


def _related_to(*, inviter: User, people: list[User], club_id: int | None) -> set[int]:
    """Those of `people` who follow `inviter` or are active members of the club."""
    ids = [person.pk for person in people]
    if not ids:
        return set()
    related = set(
        Follow.objects.filter(followee=inviter, follower_id__in=ids).values_list(
            "follower_id", flat=True
        )
    )
    if club_id is not None:
        related |= set(
            ClubMembership.objects.filter(
                club_id=club_id, user_id__in=ids, status=ClubMembership.Status.ACTIVE
            ).values_list("user_id", flat=True)
        )
    return related


def room_live_within_cap(*, room: Room) -> None:
    """Raises when the room's host has ROOM_LIVE_PER_PERSON live rooms already (one account
    made 60 in 8 s, each one a hallway entry and, on the media server, a bridge)."""
    cap = settings.ROOM_LIVE_PER_PERSON
    live = Room.objects.filter(host_id=room.host_id, status=Room.Status.LIVE).exclude(pk=room.pk)
    if live.count() >= cap:
        raise ApplicationError(
            f"You host {cap} live room{'s' if cap != 1 else ''} already: end one to start another.",
            code="too_many_live_rooms",
            status=409,
        )


def room_creations_within_budget(*, host: User) -> None:
    """Counts one more room made by `host` this hour (live or scheduled, across processes);
    raises past ROOM_CREATIONS_PER_HOUR."""
    hour = int(time.time() // 3600)
    if cache_count(f"room-creations:{host.pk}:{hour}", timeout=3600 + 60) > (
        settings.ROOM_CREATIONS_PER_HOUR
    ):
        raise ApplicationError(
            f"You can make {settings.ROOM_CREATIONS_PER_HOUR} rooms an hour; try again in the "
            "next hour.",
            code="rate_limited",
            status=429,
        )


def room_invites_within_budget(*, inviter: User, count: int) -> None:
    """Counts `count` more people invited by `inviter` this hour (across rooms and
    processes, in the cache); raises past ROOM_INVITES_PER_HOUR."""
    if count <= 0:
        return
    hour = int(time.time() // 3600)
    used = cache_count(f"room-invites:{inviter.pk}:{hour}", timeout=3600 + 60, by=count)
    if used > settings.ROOM_INVITES_PER_HOUR:
        raise ApplicationError(
            f"You can invite {settings.ROOM_INVITES_PER_HOUR} people an hour; try again "
            "in the next hour.",
            code="rate_limited",
            status=429,
        )


def room_access_to_enter(*, user: User, room: Room) -> bool:
    """Raises unless `user` may come into the live `room` now (rooms.access has the rule);
    True when they come in as one of its moderators."""
    verdict = room_entry_verdict(user=user, room=room)
    if verdict.refusal is not None:
        raise verdict.refusal
    return verdict.moderator


def room_access_to_see(*, user: User, room: Room) -> None:
    """Raises unless `user` may see `room`, live or not (rooms.access has the rule)."""
    refusal = room_refusal(user=user, room=room)
    if refusal is not None:
        raise refusal


def room_stage_has_space(*, room: Room) -> None:
    on_stage = RoomMember.objects.filter(room=room, role__in=RoomMember.STAGE_ROLES).count()
    if on_stage >= room.speaker_cap:
        raise ApplicationError(
            "The stage is full; someone has to step down first.", code="stage_full", status=409
        )


def member_in_room(*, room: Room, user_id: int) -> RoomMember:
    member = (
        RoomMember.objects.select_related("user").filter(room=room, user_id=user_id).first()
        if isinstance(user_id, int) and not isinstance(user_id, bool)
        else None
    )
    if member is None:
        raise ApplicationError.not_found("That person is not in this room.")
    return member


def member_as_moderator(*, room: Room, user: User) -> RoomMember:
    member = member_in_room(room=room, user_id=user.pk)
    if member.role != Role.MODERATOR:
        raise ApplicationError.forbidden("Only moderators can do that.")
    return member


def room_access_as_moderator(*, user: User, room: Room) -> None:
    """Moderators in the room, and the host and co-hosts from anywhere (API, pages)."""
    if user.pk not in room_moderator_ids(room):
        raise ApplicationError.forbidden("Only the room's moderators can do that.")


def room_access_as_staff(*, user: User | None) -> None:
    """Site staff act on any room from admin (end it, remove someone) without being its
    moderators; they need the `rooms.moderate_room` permission (the Moderators group)."""
    if user is None or not (
        user.is_active and user.is_staff and user.has_perm("rooms.moderate_room")
    ):
        raise ApplicationError.forbidden("Only site staff can do that.")


def blocked_by(*, blocker_id: int, user: User) -> bool:
    return Block.objects.filter(blocker_id=blocker_id, blocked=user).exists()

"""Who may enter a room and who may act in it: the checks every room service calls first."""

from collections.abc import Iterable

from accounts.models import User
from config.errors import ApplicationError
from follows.models import Block, ClubBan, ClubMembership, Follow
from follows.permissions import users_blocked_between
from rooms.models import Room, RoomBan, RoomMember

Role = RoomMember.Role


def room_moderator_ids(room: Room) -> set[int]:
    """The host, the co-hosts and whoever holds the moderator role now."""
    ids = {room.host_id}
    ids.update(room.co_hosts.values_list("pk", flat=True))
    ids.update(
        RoomMember.objects.filter(room=room, role=Role.MODERATOR).values_list("user_id", flat=True)
    )
    return ids


def room_is_host_or_co_host(*, user: User, room: Room) -> bool:
    return user.pk == room.host_id or room.co_hosts.filter(pk=user.pk).exists()


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


def room_invitees_allowed(*, host: User, invitees: Iterable[User]) -> None:
    for person in invitees:
        if users_blocked_between(host, person):
            raise ApplicationError.forbidden(f"You cannot invite @{person.username}.")


def room_access_to_enter(*, user: User, room: Room, moderators: set[int] | None = None) -> None:
    """Raises unless `user` may come into the live `room` now."""
    if room.status == Room.Status.ENDED:
        raise ApplicationError.not_found("This room has ended.")
    if room.status == Room.Status.SCHEDULED:
        raise ApplicationError.not_found("This room has not started yet.")
    # Before the host check: a club ban reaches every room of the club, even one they host.
    if room.club_id and ClubBan.objects.filter(club_id=room.club_id, user=user).exists():
        raise ApplicationError.forbidden(f"An admin of {room.club.name} banned you from its rooms.")  # type: ignore[union-attr]  # club_id is set
    if user.pk == room.host_id:
        return
    if RoomBan.objects.filter(room=room, user=user).exists():
        raise ApplicationError.forbidden("A moderator removed you from this room.")
    if moderators is None:
        moderators = room_moderator_ids(room)
    if user.pk in moderators:
        return
    if Block.objects.filter(blocker_id__in=moderators, blocked=user).exists():
        raise ApplicationError.forbidden("You cannot join this room.")
    if room_visible_to(user=user, room=room, moderators=moderators):
        return
    if room.visibility == Room.Visibility.SOCIAL:
        raise ApplicationError.forbidden(
            "This is a social room: only people the moderators follow can join."
        )
    raise ApplicationError.forbidden(
        "This room is closed: only invited people"
        + (f" and members of {room.club.name}" if room.club is not None else "")
        + " can join."
    )


def room_visible_to(*, user: User, room: Room, moderators: set[int] | None = None) -> bool:
    """The visibility rule alone (no bans, no blocks)."""
    if room.visibility == Room.Visibility.OPEN:
        return True
    if moderators is None:
        moderators = room_moderator_ids(room)
    if user.pk in moderators or room.invitees.filter(pk=user.pk).exists():
        return True
    if room.visibility == Room.Visibility.SOCIAL:
        return Follow.objects.filter(follower_id__in=moderators, followee=user).exists()
    return (
        room.club_id is not None
        and ClubMembership.objects.filter(
            club_id=room.club_id, user=user, status=ClubMembership.Status.ACTIVE
        ).exists()
    )


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

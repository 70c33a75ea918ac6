"""The stage: hands, invitations, mutes, moderators, removals and reactions.

Every function takes the acting person and the room id, locks the room, checks the actor's
rights through rooms.permissions, changes the members and publishes one event. Site staff
reach in from admin through `member_remove_by_staff`.
"""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from follows.permissions import users_blocked_between
from rooms import events, protocol, signals
from rooms.access import room_refusal
from rooms.models import Room, RoomMember
from rooms.permissions import (
    blocked_by,
    member_as_moderator,
    member_in_room,
    room_access_as_moderator,
    room_access_as_staff,
    room_invitees_allowed,
    room_invites_within_budget,
    room_stage_has_space,
)
from rooms.services.common import locked_live_room, member_expel, member_save, note_moderators
from rooms.services.recording import record_consent_require

Role = RoomMember.Role


def _me(room: Room, actor: User) -> RoomMember:
    return member_in_room(room=room, user_id=actor.pk)


@transaction.atomic
def hand_raise(*, actor: User, room_id: UUID | str) -> RoomMember:
    room = locked_live_room(room_id)
    me = _me(room, actor)
    if me.on_stage:
        raise ApplicationError("You are on stage already.", code="on_stage")
    if me.hand_raised:
        return me
    me.hand_raised_at = timezone.now()
    return member_save(room, me, "hand_raised_at")


@transaction.atomic
def hand_lower(*, actor: User, room_id: UUID | str) -> RoomMember:
    room = locked_live_room(room_id)
    me = _me(room, actor)
    if not me.hand_raised:
        return me
    me.hand_raised_at = None
    return member_save(room, me, "hand_raised_at")


@transaction.atomic
def speaker_invite(*, actor: User, room_id: UUID | str, user_id: int) -> RoomMember:
    room = locked_live_room(room_id)
    moderator = member_as_moderator(room=room, user=actor)
    target = member_in_room(room=room, user_id=user_id)
    if target.on_stage:
        raise ApplicationError(f"{target.user.name} is on stage already.", code="on_stage")
    if blocked_by(blocker_id=moderator.user_id, user=target.user):
        raise ApplicationError.forbidden("You blocked this person; unblock them to invite them.")
    if target.invited_to_speak_at is not None:
        return target
    target.invited_to_speak_at = timezone.now()
    member_save(room, target, "invited_to_speak_at")
    events.tell(target, protocol.SpeakerInvited(by=events.user_payload(actor)))
    signals.speaker_invited.send(RoomMember, room=room, actor=actor, user=target.user, in_room=True)
    return target


@transaction.atomic
def room_invite(*, actor: User, room_id: UUID | str, user: User) -> str:
    """A moderator invites someone to speak from anywhere (the API): on stage at once when
    they are in the room ("invited"), otherwise by a notification that leads them to it
    ("notified"); a closed or social room lets them in."""
    room = locked_live_room(room_id)
    room_access_as_moderator(user=actor, room=room)
    if user.pk == actor.pk:
        raise ApplicationError("You moderate this room already.", code="invalid")
    if users_blocked_between(actor, user):
        raise ApplicationError.forbidden(f"You cannot invite {user.username}.")
    if RoomMember.objects.filter(room=room, user=user).exists():
        if not RoomMember.objects.filter(room=room, user=actor, role=Role.MODERATOR).exists():
            raise ApplicationError.forbidden(
                "Join the room as a moderator to bring someone who is there on stage."
            )
        speaker_invite(actor=actor, room_id=room.pk, user_id=user.pk)
        return "invited"
    refusal = room_refusal(user=user, room=room)
    if refusal is not None and refusal.line == "removed":
        raise ApplicationError.forbidden(f"A moderator removed {user.username} from this room.")
    if refusal is not None and refusal.line != "visibility":
        raise ApplicationError.forbidden(f"{user.username} cannot join this room.")
    # Elsewhere, an invitation is a notification (and a push): only to people who chose to
    # hear from the inviter, and only so many an hour.
    room_invitees_allowed(host=actor, invitees=[user], club_id=room.club_id)
    room_invites_within_budget(inviter=actor, count=1)
    # Only the room's visibility keeps them out: the invitation opens it to them.
    if refusal is not None:
        room.invitees.add(user)
    signals.speaker_invited.send(RoomMember, room=room, actor=actor, user=user, in_room=False)
    return "notified"


@transaction.atomic
def speaker_accept(*, actor: User, room_id: UUID | str, record_consent: bool = False) -> RoomMember:
    """The invitee comes on stage, muted; a recording room needs their consent first."""
    room = locked_live_room(room_id)
    me = _me(room, actor)
    if me.invited_to_speak_at is None:
        raise ApplicationError.forbidden("No one has invited you to speak.")
    room_stage_has_space(room=room)
    record_consent_require(room=room, user_id=actor.pk, consent=record_consent)
    me.role, me.muted = Role.SPEAKER, True
    me.hand_raised_at = me.invited_to_speak_at = None
    return member_save(room, me, "role", "muted", "hand_raised_at", "invited_to_speak_at")


@transaction.atomic
def speaker_decline(*, actor: User, room_id: UUID | str) -> RoomMember:
    room = locked_live_room(room_id)
    me = _me(room, actor)
    if me.invited_to_speak_at is None:
        return me
    me.invited_to_speak_at = None
    return member_save(room, me, "invited_to_speak_at")


@transaction.atomic
def speaker_leave(*, actor: User, room_id: UUID | str) -> RoomMember:
    """Steps down to the audience (a moderator gives up moderating too)."""
    room = locked_live_room(room_id)
    me = _me(room, actor)
    if not me.on_stage:
        raise ApplicationError("You are not on stage.", code="not_on_stage")
    if me.user_id == room.host_id:
        raise ApplicationError.forbidden("The host stays on stage; end the room or leave it.")
    was_moderator = me.role == Role.MODERATOR
    me.role, me.muted = Role.LISTENER, True
    member_save(room, me, "role", "muted")
    if was_moderator:
        note_moderators(room)
    return me


@transaction.atomic
def speaker_remove(*, actor: User, room_id: UUID | str, user_id: int) -> RoomMember:
    """A moderator moves a speaker back to the audience; peers renegotiate on the update."""
    room = locked_live_room(room_id)
    member_as_moderator(room=room, user=actor)
    target = member_in_room(room=room, user_id=user_id)
    if target.role == Role.MODERATOR:
        raise ApplicationError.forbidden("Take their moderator rights away first.")
    if target.role != Role.SPEAKER:
        raise ApplicationError(f"{target.user.name} is not on stage.", code="not_on_stage")
    previous = target.role
    target.role, target.muted = Role.LISTENER, True
    member_save(room, target, "role", "muted")
    signals.role_changed.send(RoomMember, room=room, actor=actor, member=target, previous=previous)
    return target


@transaction.atomic
def mute_set(*, actor: User, room_id: UUID | str, muted: bool) -> RoomMember:
    room = locked_live_room(room_id)
    me = _me(room, actor)
    if not me.on_stage:
        raise ApplicationError("Only people on stage have a microphone.", code="not_on_stage")
    if me.muted == muted:
        return me
    if not muted:
        record_consent_require(room=room, user_id=actor.pk, consent=False)
    me.muted = muted
    return member_save(room, me, "muted")


@transaction.atomic
def mute_force(*, actor: User, room_id: UUID | str, user_id: int) -> RoomMember:
    room = locked_live_room(room_id)
    member_as_moderator(room=room, user=actor)
    target = member_in_room(room=room, user_id=user_id)
    if not target.on_stage:
        raise ApplicationError(f"{target.user.name} is not on stage.", code="not_on_stage")
    if target.muted:
        return target
    target.muted = True
    member_save(room, target, "muted")
    signals.member_muted.send(RoomMember, room=room, actor=actor, member=target)
    return target


@transaction.atomic
def moderator_grant(*, actor: User, room_id: UUID | str, user_id: int) -> RoomMember:
    room = locked_live_room(room_id)
    member_as_moderator(room=room, user=actor)
    target = member_in_room(room=room, user_id=user_id)
    if target.role == Role.MODERATOR:
        return target
    if not target.on_stage:
        room_stage_has_space(room=room)
    previous = target.role
    target.role = Role.MODERATOR
    target.hand_raised_at = target.invited_to_speak_at = None
    member_save(room, target, "role", "hand_raised_at", "invited_to_speak_at")
    note_moderators(room)
    signals.role_changed.send(RoomMember, room=room, actor=actor, member=target, previous=previous)
    return target


@transaction.atomic
def moderator_revoke(*, actor: User, room_id: UUID | str, user_id: int) -> RoomMember:
    room = locked_live_room(room_id)
    member_as_moderator(room=room, user=actor)
    target = member_in_room(room=room, user_id=user_id)
    if target.role != Role.MODERATOR:
        raise ApplicationError(f"{target.user.name} is not a moderator.", code="not_moderator")
    if target.user_id == room.host_id:
        raise ApplicationError.forbidden("The host cannot be demoted.")
    target.role = Role.SPEAKER
    member_save(room, target, "role")
    note_moderators(room)
    signals.role_changed.send(
        RoomMember, room=room, actor=actor, member=target, previous=Role.MODERATOR
    )
    return target


@transaction.atomic
def member_remove(*, actor: User, room_id: UUID | str, user_id: int) -> None:
    """Removes someone; they cannot come back to this room."""
    room = locked_live_room(room_id)
    member_as_moderator(room=room, user=actor)
    target = member_in_room(room=room, user_id=user_id)
    if target.user_id == room.host_id:
        raise ApplicationError.forbidden("The host cannot be removed.")
    if target.user_id == actor.pk:
        raise ApplicationError("Leave the room instead of removing yourself.", code="invalid")
    member_expel(
        room,
        target,
        actor=actor,
        as_staff=False,
        message="A moderator removed you from this room.",
        keep_out=True,
    )


@transaction.atomic
def member_remove_by_staff(
    *, actor: User, room_id: UUID | str, user_id: int, note: str = ""
) -> None:
    """Site staff remove someone from a room from admin; they cannot come back to it."""
    room_access_as_staff(user=actor)
    room = locked_live_room(room_id)
    target = member_in_room(room=room, user_id=user_id)
    if target.user_id == room.host_id:
        raise ApplicationError.forbidden("The host cannot be removed; end the room instead.")
    member_expel(
        room,
        target,
        actor=actor,
        as_staff=True,
        message="Site staff removed you from this room.",
        keep_out=True,
        note=note.strip(),
    )


def reaction_send(*, actor: User, room_id: UUID | str, emoji: str) -> None:
    """A passing reaction: not state, so it is neither stored nor numbered."""
    if emoji not in protocol.REACTIONS:
        raise ApplicationError(
            f"A reaction is one of {' '.join(protocol.REACTIONS)}.", code="invalid"
        )
    room = Room.objects.filter(pk=room_id, status=Room.Status.LIVE).first()
    if room is None:
        raise ApplicationError.not_found("This room is not live.")
    _me(room, actor)
    events.broadcast(room, protocol.Reaction(user_id=actor.pk, emoji=emoji))

"""Moderation's answers to what rooms, chat and follows announce: a row in the log for each
moderator's action, and the removals from rooms that a block or a club ban brings.

Connected in ModerationConfig.ready; each runs inside the announcing service's transaction.
"""

from django.dispatch import receiver

from chat import signals as chat_signals
from follows import signals as follows_signals
from moderation.models import ModerationLog
from moderation.services.expulsions import members_remove_blocked, members_remove_club_banned
from moderation.services.log import log_action
from rooms import signals as rooms_signals
from rooms.models import RoomMember

Action = ModerationLog.Action
Role = RoomMember.Role


@receiver(rooms_signals.room_ended)
def log_room_ended(sender, *, room, actor, as_staff, note, **kwargs):
    action = Action.STAFF_END_ROOM if as_staff else Action.END_ROOM
    log_action(action=action, actor=actor, room=room, note=note)


@receiver(rooms_signals.role_changed)
def log_role_changed(sender, *, room, actor, member, previous, **kwargs):
    if member.role == Role.MODERATOR:
        action = Action.GRANT_MODERATOR
    elif previous == Role.MODERATOR:
        action = Action.REVOKE_MODERATOR
    else:
        action = Action.MOVE_TO_AUDIENCE
    log_action(action=action, actor=actor, room=room, target=member.user)


@receiver(rooms_signals.speaker_invited)
def log_speaker_invited(sender, *, room, actor, user, in_room, **kwargs):
    # An invitation from outside the room is a message, not a change to the stage.
    if in_room:
        log_action(action=Action.INVITE_SPEAKER, actor=actor, room=room, target=user)


@receiver(rooms_signals.member_muted)
def log_member_muted(sender, *, room, actor, member, **kwargs):
    log_action(action=Action.MUTE, actor=actor, room=room, target=member.user)


@receiver(rooms_signals.member_removed)
def log_member_removed(sender, *, room, actor, user, as_staff, note, **kwargs):
    action = Action.STAFF_REMOVE_MEMBER if as_staff else Action.REMOVE
    log_action(action=action, actor=actor, room=room, target=user, note=note)


@receiver(chat_signals.message_deleted)
def log_chat_message_deleted(sender, *, room, actor, message, **kwargs):
    log_action(
        action=Action.CHAT_DELETE,
        actor=actor,
        room=room,
        target=message.author,
        note=f"Message #{message.pk}: {message.text}",
    )


@receiver(chat_signals.chat_muted)
def log_chat_muted(sender, *, room, actor, user, muted, **kwargs):
    action = Action.CHAT_MUTE if muted else Action.CHAT_UNMUTE
    log_action(action=action, actor=actor, room=room, target=user)


@receiver(chat_signals.settings_changed)
def log_chat_settings_changed(sender, *, room, actor, **kwargs):
    slow = f"slow mode {room.chat_slow_seconds} s" if room.chat_slow_seconds else "no slow mode"
    log_action(
        action=Action.CHAT_SETTINGS,
        actor=actor,
        room=room,
        note=f"{room.get_chat_mode_display()}; {slow}",
    )


@receiver(follows_signals.blocked)
def expel_blocked(sender, *, blocker, blocked, **kwargs):
    members_remove_blocked(blocker=blocker, blocked=blocked)


@receiver(follows_signals.club_banned)
def expel_club_banned(sender, *, actor, club, user, reason, **kwargs):
    members_remove_club_banned(actor=actor, club=club, user=user)
    log_action(action=Action.CLUB_BAN, actor=actor, target=user, club=club, note=reason)


@receiver(follows_signals.club_unbanned)
def log_club_unbanned(sender, *, actor, club, user, **kwargs):
    log_action(action=Action.CLUB_UNBAN, actor=actor, target=user, club=club)

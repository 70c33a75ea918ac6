"""Staff restrictions on accounts: suspend for a while, ban, reinstate.

Each one is logged and, when it locks someone out, closes every socket they have open, in
every server process: a `user.disconnect` message, sent after commit, to each of their room
connections (the channels their room members hold) and to the group `user.<id>` that their
notification sockets joined.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import RESTRICTION_REASON_MAX_LENGTH, User
from core.errors import ApplicationError
from moderation.models import ModerationLog
from moderation.permissions import staff_may_restrict
from moderation.services.log import log_action
from realtime.close_codes import CLOSE_FORBIDDEN
from realtime.delivery import group_send_on_commit, send_on_commit
from realtime.messages import USER_DISCONNECT, person_group
from rooms.models import RoomMember

Action = ModerationLog.Action

SUSPENSION_MAX = timedelta(days=366)


def disconnect_everywhere(*, user: User, reason: str) -> None:
    """Closes every socket `user` has open, on every server, once the transaction commits,
    with "not allowed here": the person may not be here at all now.

    A room socket is reached through its member's channel rather than a group of the
    person's: joining a group costs every joiner of a room a Redis subscription (and its
    reply) for a message sent once in a blue moon."""
    message = {"type": USER_DISCONNECT, "code": CLOSE_FORBIDDEN, "reason": reason}
    group_send_on_commit(person_group(user.pk), message)
    channels = RoomMember.objects.filter(user=user).exclude(channel_name="")
    for channel in channels.values_list("channel_name", flat=True):
        send_on_commit(channel, message)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Give a reason: the person sees it when they try to sign in.")
    if len(reason) > RESTRICTION_REASON_MAX_LENGTH:
        raise ApplicationError(f"Keep the reason under {RESTRICTION_REASON_MAX_LENGTH} characters.")
    return reason


def _locked(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def user_suspend(*, actor: User, user: User, duration: timedelta, reason: str) -> User:
    """Locks `user` out for `duration`; it ends by itself. A new suspension replaces one
    that is running."""
    staff_may_restrict(actor=actor, user=user)
    if not timedelta(minutes=1) <= duration <= SUSPENSION_MAX:
        raise ApplicationError("A suspension lasts from a minute to a year.")
    reason = _reason(reason)
    user = _locked(user)
    if user.is_banned:
        raise ApplicationError.conflict(f"@{user.username} is banned already.")
    user.suspended_until = timezone.now() + duration
    user.restriction_reason = reason
    user.save(update_fields=["suspended_until", "restriction_reason"])
    until = user.suspended_until.isoformat(timespec="minutes")
    log_action(
        action=Action.SUSPEND, actor=actor, room=None, target=user, note=f"until {until}: {reason}"
    )
    disconnect_everywhere(user=user, reason=user.restriction() or "")
    return user


@transaction.atomic
def user_ban(*, actor: User, user: User, reason: str) -> User:
    """Locks `user` out until staff lift the ban."""
    staff_may_restrict(actor=actor, user=user)
    reason = _reason(reason)
    user = _locked(user)
    if user.is_banned:
        raise ApplicationError.conflict(f"@{user.username} is banned already.")
    user.banned_at = timezone.now()
    user.suspended_until = None
    user.restriction_reason = reason
    user.save(update_fields=["banned_at", "suspended_until", "restriction_reason"])
    log_action(action=Action.BAN, actor=actor, room=None, target=user, note=reason)
    disconnect_everywhere(user=user, reason=user.restriction() or "")
    return user


@transaction.atomic
def user_reinstate(*, actor: User, user: User, note: str = "") -> User:
    """Lifts a running suspension or a ban."""
    staff_may_restrict(actor=actor, user=user)
    user = _locked(user)
    was_banned, was_suspended = user.is_banned, user.is_suspended()
    if not (was_banned or was_suspended):
        raise ApplicationError.conflict(f"@{user.username} is neither suspended nor banned.")
    user.banned_at = user.suspended_until = None
    user.restriction_reason = ""
    user.save(update_fields=["banned_at", "suspended_until", "restriction_reason"])
    action = Action.UNBAN if was_banned else Action.UNSUSPEND
    log_action(action=action, actor=actor, room=None, target=user, note=note.strip())
    return user

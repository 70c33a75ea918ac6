"""Who may act on people as site staff: the checks the moderation services call first."""

from accounts.models import User
from core.errors import ApplicationError


def staff_may_restrict(*, actor: User, user: User) -> None:
    """Raises unless `actor` may suspend, ban or reinstate `user`.

    Staff need the suspend permission; only a superuser acts on another staff account, so a
    moderator cannot lock out the people who oversee them.
    """
    if not (actor.is_active and actor.is_staff and actor.has_perm("accounts.suspend_user")):
        raise ApplicationError.forbidden("Only site staff can suspend or ban people.")
    if actor.pk == user.pk:
        raise ApplicationError("You cannot suspend or ban yourself.", code="self_restrict")
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        raise ApplicationError.forbidden(
            f"@{user.username} is staff: only a superuser can suspend or ban them."
        )


def staff_may_handle_reports(*, actor: User) -> None:
    if not (actor.is_active and actor.is_staff and actor.has_perm("moderation.change_report")):
        raise ApplicationError.forbidden("Only site staff can handle reports.")

"""The moderation log: one row per action, written in the acting service's transaction."""

from typing import cast

from django.utils.text import Truncator

from accounts.models import User
from follows.models import Club
from moderation.models import ModerationLog
from rooms.models import Room


def log_action(
    *,
    action: str,
    actor: User | None,
    room: Room | None = None,
    target: User | None = None,
    note: str = "",
    club: Club | None = None,
) -> None:
    # The note summarises (a reason, a staff note with its context); the full text stays
    # where it came from (the account, the report), so a long one is shortened here.
    note = Truncator(note).chars(cast(int, ModerationLog._meta.get_field("note").max_length))
    ModerationLog.objects.create(
        action=action, actor=actor, room=room, target=target, note=note, club=club
    )

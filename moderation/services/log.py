"""The moderation log: one row per action, written in the acting service's transaction."""

from django.utils.text import Truncator

from moderation.models import ModerationLog


def log_action(*, action: str, actor, room=None, target=None, note: str = "", club=None) -> None:
    # The note summarises (a reason, a staff note with its context); the full text stays
    # where it came from (the account, the report), so a long one is shortened here.
    note = Truncator(note).chars(ModerationLog._meta.get_field("note").max_length)
    ModerationLog.objects.create(
        action=action, actor=actor, room=room, target=target, note=note, club=club
    )

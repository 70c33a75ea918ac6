"""What notifications do when rooms, chat and follows announce a change: fan a room's news out to
its audience, or tell one person. Connected in NotificationsConfig.ready; each runs inside
the announcing service's transaction, and pushes or enqueues only once it commits."""

from django.dispatch import receiver

from chat import signals as chat_signals
from follows import signals as follows_signals
from notifications.models import Notification
from notifications.services import (
    chat_mentions_notify,
    club_invite_notify,
    fan_out_create,
    hallway_changed_announce,
    new_follower_notify,
    room_rescheduled_fan_out,
    speaker_invite_notify,
)
from rooms import signals as rooms_signals

Kind = Notification.Kind


@receiver(rooms_signals.room_scheduled)
def fan_out_room_scheduled(sender, *, room, **kwargs):
    fan_out_create(room=room, kind=Kind.ROOM_SCHEDULED)
    hallway_changed_announce(room=room)


@receiver(rooms_signals.room_edited)
def announce_room_edited(sender, *, room, **kwargs):
    # Its card in the upcoming rooms (title, time and order, topics, language, hosts).
    hallway_changed_announce(room=room)


@receiver(rooms_signals.room_started)
def fan_out_room_started(sender, *, room, **kwargs):
    fan_out_create(room=room, kind=Kind.ROOM_STARTED)
    hallway_changed_announce(room=room)


@receiver(rooms_signals.room_ended)
def announce_room_ended(sender, *, room, **kwargs):
    hallway_changed_announce(room=room)


@receiver(rooms_signals.room_rescheduled)
def fan_out_room_rescheduled(sender, *, room, **kwargs):
    room_rescheduled_fan_out(room=room)


@receiver(rooms_signals.room_cancelled)
def fan_out_room_cancelled(sender, *, room, **kwargs):
    fan_out_create(room=room, kind=Kind.ROOM_CANCELLED)


@receiver(rooms_signals.speaker_invited)
def notify_speaker_invited(sender, *, room, actor, user, in_room, **kwargs):
    # Someone in the room sees the invitation on stage; only those elsewhere are told.
    if not in_room:
        speaker_invite_notify(actor=actor, user=user, room=room)


@receiver(chat_signals.message_posted)
def notify_mentioned(sender, *, message, absent_mentions, **kwargs):
    # People in the room see the mention highlighted; only those elsewhere are told.
    chat_mentions_notify(actor=message.author, users=absent_mentions, room=message.room)


@receiver(follows_signals.followed)
def notify_followed(sender, *, follower, followee, **kwargs):
    new_follower_notify(follower=follower, followee=followee)


@receiver(follows_signals.club_invited)
def notify_club_invited(sender, *, actor, user, club, **kwargs):
    club_invite_notify(actor=actor, user=user, club=club)

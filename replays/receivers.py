"""What replays do when rooms announce a change; each runs inside the room service's
transaction."""

from django.dispatch import receiver

from replays.services.replays import replay_open, replay_room_ended
from rooms import signals as room_signals


@receiver(room_signals.room_started)
def open_replay_of_recording_room(sender, *, room, **kwargs):
    if room.recording:
        replay_open(room=room)


@receiver(room_signals.recording_changed)
def open_replay_when_recording_starts(sender, *, room, **kwargs):
    if room.recording:
        replay_open(room=room)


@receiver(room_signals.room_ended)
def process_replay_of_ended_room(sender, *, room, **kwargs):
    replay_room_ended(room=room)

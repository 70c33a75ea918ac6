"""What the room services announce to the apps above rooms.

Rooms imports neither notifications nor moderation; they connect receivers to these signals
in their `AppConfig.ready`. Each signal is sent synchronously, inside the service's
transaction, where the service used to call the other app: a receiver's writes commit or
roll back with the room's change, and its own `on_commit` work runs after that commit.

The keyword arguments each one sends:

- `room_scheduled`: `room` — a room was created to start later.
- `room_rescheduled`: `room`, `actor`, `previous` — a scheduled room moved to another time
  (`room.scheduled_for` is the new one, `previous` the old).
- `room_edited`: `room`, `actor`, `changed` — the host or a co-host changed a scheduled room
  (`changed` names the fields; a new time also sends `room_rescheduled`).
- `room_cancelled`: `room`, `actor` (None: the system) — a scheduled room was called off
  before it started (`room_ended` is sent too).
- `room_started`: `room` — a room went live (created live or started).
- `room_ended`: `room`, `actor` (None: the system), `as_staff`, `note` — a room ended or a
  scheduled one was cancelled.
- `recording_changed`: `room`, `actor` — a moderator started or stopped recording a live room
  (`room.recording` says which).
- `role_changed`: `room`, `actor`, `member`, `previous` — a moderator changed someone's role
  (`member.role` is the new one, `previous` the old).
- `speaker_invited`: `room`, `actor`, `user`, `in_room` — a moderator invited someone to
  speak: on stage at once when they are in the room, otherwise by a message to them.
- `member_muted`: `room`, `actor`, `member` — a moderator muted a speaker.
- `member_removed`: `room`, `actor`, `user`, `as_staff`, `note` — someone was taken out of a
  live room by a moderator, by site staff, or by a rule that starts outside it.
"""

from django.dispatch import Signal

room_scheduled = Signal()
room_rescheduled = Signal()
room_edited = Signal()
room_cancelled = Signal()
room_started = Signal()
room_ended = Signal()
recording_changed = Signal()
role_changed = Signal()
speaker_invited = Signal()
member_muted = Signal()
member_removed = Signal()

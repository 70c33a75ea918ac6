"""What the chat services announce to the apps above chat.

Chat imports neither notifications nor moderation; they connect receivers to these signals
in their `AppConfig.ready`. Each is sent synchronously inside the service's transaction, so a
receiver's writes commit or roll back with the chat's change.

The keyword arguments each one sends:

- `message_posted`: `message`, `absent_mentions` — a new message; `absent_mentions` are the
  people it names who are not in the room now.
- `message_deleted`: `room`, `actor`, `message` — a moderator deleted someone else's message
  (people deleting their own are not announced).
- `chat_muted`: `room`, `actor`, `user`, `muted` — a moderator muted someone in the chat
  (`muted` true) or lifted it.
- `settings_changed`: `room`, `actor` — a moderator changed the chat's mode or slow mode
  (the room holds the new values).
"""

from django.dispatch import Signal

message_posted = Signal()
message_deleted = Signal()
chat_muted = Signal()
settings_changed = Signal()

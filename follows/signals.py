"""What the follow and club services announce to the apps above follows.

Follows imports neither rooms, notifications nor moderation; they connect receivers to these
signals in their `AppConfig.ready`. Each is sent synchronously inside the service's
transaction, where the service used to call the other app, so a receiver's writes commit or
roll back with the follow graph's change.

The keyword arguments each one sends:

- `followed`: `follower`, `followee` — a new follow.
- `blocked`: `blocker`, `blocked` — a block (new or repeated); the follows between the two
  are gone already.
- `club_invited`: `actor`, `user`, `club` — an admin invited someone to a club.
- `club_deleting`: `actor`, `club` — the owner is deleting a club; it still exists (its
  rooms still point at it) while receivers run.
- `club_banned`: `actor`, `club`, `user`, `reason` — a new club ban; the membership and club
  follow are gone already.
- `club_unbanned`: `actor`, `club`, `user` — a club ban was lifted.
"""

from django.dispatch import Signal

followed = Signal()
blocked = Signal()
club_invited = Signal()
club_deleting = Signal()
club_banned = Signal()
club_unbanned = Signal()

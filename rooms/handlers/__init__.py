"""What answers each client frame of the room socket.

The room consumer authenticates, applies the frame gate and the rate budgets, validates
each frame against rooms.protocol and hands it to the handler registered here for its
type. Features register their handlers in their own module, imported by
RoomsConfig.ready: `connection` (pings, snapshots, audience pages, leaving, mesh
signalling), `stage` (hands, invitations, mutes, moderators, removals, the end, reactions)
and rooms.media.handlers (`media.*`). A new feature adds a module; the consumer does not
change.

A handler is `async def handle(connection, frame)`: `connection` is the RoomConsumer (its
`user`, `room_id`, `channel_name`, `channel_layer`, `media`, `send_frame` and
`leave_for_good`), `frame` the validated Struct. An ApplicationError it raises is answered
with an `error` frame that echoes the frame's `ref`.
"""

from realtime.protocol import HandlerRegistry
from rooms.limits import FloodGuard
from rooms.protocol import ROOM

room_handlers = HandlerRegistry(ROOM, default_budget=FloodGuard.ACTION)

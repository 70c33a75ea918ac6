"""The connection's own frames: pings, snapshots, audience pages, leaving, and the mesh's
signalling."""

from channels.db import database_sync_to_async
from msgspec import UNSET

from realtime.messages import ROOM_FRAME
from realtime.protocol import Pong, encode
from rooms import protocol, selectors
from rooms.batching import PresenceRefresher
from rooms.handlers import room_handlers
from rooms.limits import FloodGuard
from rooms.media import signalling

ACTION, SIGNAL = FloodGuard.ACTION, FloodGuard.SIGNAL


@room_handlers.register(protocol.Ping, budget=ACTION)
async def ping(connection, frame: protocol.Ping) -> None:
    PresenceRefresher.current().heard(connection.channel_name)
    await connection.send_frame(Pong())


@room_handlers.register(protocol.SnapshotRequest, budget=ACTION)
async def snapshot_request(connection, frame: protocol.SnapshotRequest) -> None:
    snapshot = await database_sync_to_async(selectors.room_snapshot)(
        room_id=connection.room_id, user=connection.user
    )
    await connection.send_frame(snapshot)


@room_handlers.register(protocol.AudienceMore, budget=ACTION)
async def audience_more(connection, frame: protocol.AudienceMore) -> None:
    page = await database_sync_to_async(selectors.audience_page)(
        room_id=connection.room_id, offset=frame.offset
    )
    await connection.send_frame(page)


@room_handlers.register(protocol.RoomLeave, budget=ACTION)
async def room_leave(connection, frame: protocol.RoomLeave) -> None:
    await connection.leave_for_good()


@room_handlers.register(protocol.SignalSend, budget=SIGNAL)
async def signal(connection, frame: protocol.SignalSend) -> None:
    channel = await database_sync_to_async(signalling.signal_route)(
        room_id=connection.room_id, sender_id=connection.user.pk, signal=frame
    )
    relayed = protocol.SignalRelay(
        from_=connection.user.pk,
        session=frame.session,
        description=frame.description or UNSET,
        candidate=frame.candidate or UNSET,
    )
    await connection.channel_layer.send(channel, {"type": ROOM_FRAME, "text": encode(relayed)})

"""The media server's frames on the room socket (`media.*`): each goes to the connection's
MediaSessions, and what Janus says about it becomes an `error` frame the client can act on.
They count against the signalling budget, as the mesh's `signal` does."""

import logging
from collections.abc import Awaitable

from core.errors import ApplicationError
from rooms import protocol
from rooms.handlers import room_handlers
from rooms.limits import FloodGuard
from rooms.media.janus import JanusError, JanusLostError

logger = logging.getLogger(__name__)

SIGNAL = FloodGuard.SIGNAL


async def _at_janus(step: Awaitable[None]) -> None:
    try:
        await step
    except JanusLostError as error:
        raise ApplicationError(
            "The media server is not reachable; trying again shortly.",
            code="media_unavailable",
            status=503,
        ) from error
    except JanusError as error:
        logger.info("Janus refused a media request: %s", error)
        raise ApplicationError(
            "The media server refused that; start the connection again.", code="media_refused"
        ) from error


@room_handlers.register(protocol.MediaListen, budget=SIGNAL)
async def media_listen(connection, frame: protocol.MediaListen) -> None:
    await _at_janus(connection.media.listen(frame))


@room_handlers.register(protocol.MediaPublish, budget=SIGNAL)
async def media_publish(connection, frame: protocol.MediaPublish) -> None:
    await _at_janus(connection.media.publish(frame))


@room_handlers.register(protocol.MediaAnswer, budget=SIGNAL)
async def media_answer(connection, frame: protocol.MediaAnswer) -> None:
    await _at_janus(connection.media.answer(frame))


@room_handlers.register(protocol.MediaCandidate, budget=SIGNAL)
async def media_candidate(connection, frame: protocol.MediaCandidate) -> None:
    await _at_janus(connection.media.candidate(frame))


@room_handlers.register(protocol.MediaLeave, budget=SIGNAL)
async def media_leave(connection, frame: protocol.MediaLeave) -> None:
    await _at_janus(connection.media.leave(frame))

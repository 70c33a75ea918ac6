"""Room-level commands to the media server: make, mend and destroy a room's bridge and
mountpoint, kick and mute participants. Every right is enforced here, at Janus, by the server:
nothing depends on the browser cooperating.

`Control` works on one Janus session. Sync code (services after commit, the sweep, admin)
calls `control_run`, which opens a short session for the command and closes it.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings

from rooms.media.janus import (
    ALREADY_EXISTS,
    AUDIOBRIDGE,
    STREAMING,
    JanusError,
    JanusLostError,
    Session,
)
from rooms.models import MediaBridge

logger = logging.getLogger(__name__)

# AudioBridge: "No such room" and "No such user".
NO_SUCH_ROOM = 485
NO_SUCH_USER = 492
# Streaming: "No such mountpoint".
NO_SUCH_MOUNTPOINT = 455
OPUS_PT = 100
# Participant ids at and above this are the server's own observers, not people.
OBSERVER_ID_BASE = 2**50


def media_server_configured() -> bool:
    return bool(settings.JANUS_URL)


class Control:
    def __init__(self, session: Session):
        self.session = session
        self.bridges = None
        self.streams = None

    async def _handles(self):
        if self.bridges is None:
            self.bridges = await self.session.attach(AUDIOBRIDGE)
            self.streams = await self.session.attach(STREAMING)
        return self.bridges, self.streams

    async def provision(self, bridge: MediaBridge) -> int:
        """Makes what is missing of the room's bridge, mountpoint and forward (any of them
        may exist already, after a restart of ours or of Janus's); returns the forward port."""
        bridges, streams = await self._handles()
        admin = settings.JANUS_ADMIN_KEY
        try:
            await bridges.request(
                {
                    "request": "create",
                    "room": bridge.janus_id,
                    "admin_key": admin,
                    "secret": bridge.secret,
                    "pin": bridge.pin,
                    "is_private": True,
                    "sampling_rate": 48000,
                    "audiolevel_event": True,
                    "audio_active_packets": 25,
                    "audio_level_average": 40,
                    "default_bitrate": 32000,
                    "default_expectedloss": 5,
                }
            )
        except JanusError as error:
            if error.code not in ALREADY_EXISTS:
                raise
        port = bridge.forward_port
        try:
            created = await streams.request(
                {
                    "request": "create",
                    "type": "rtp",
                    "id": bridge.janus_id,
                    "admin_key": admin,
                    "secret": bridge.secret,
                    "pin": bridge.pin,
                    "is_private": True,
                    "media": [
                        {
                            "type": "audio",
                            "mid": "a",
                            "port": 0,
                            "pt": OPUS_PT,
                            "codec": "opus",
                            "iface": "127.0.0.1",
                        }
                    ],
                }
            )
            port = created["stream"]["ports"][0]["port"]
        except JanusError as error:
            if error.code not in ALREADY_EXISTS or port is None:
                raise
        forwarders = await bridges.request(
            {"request": "listforwarders", "room": bridge.janus_id, "secret": bridge.secret}
        )
        if not any(f.get("port") == port for f in forwarders.get("rtp_forwarders", [])):
            await bridges.request(
                {
                    "request": "rtp_forward",
                    "room": bridge.janus_id,
                    "admin_key": admin,
                    "secret": bridge.secret,
                    "host": "127.0.0.1",
                    "port": port,
                    "codec": "opus",
                    "ptype": OPUS_PT,
                    "always_on": True,
                }
            )
        return port

    async def destroy(self, bridge: MediaBridge) -> None:
        """Destroying the bridge stops its forward and kicks every participant; destroying
        the mountpoint hangs up every listener."""
        bridges, streams = await self._handles()
        for handle, body, missing in (
            (bridges, {"room": bridge.janus_id}, NO_SUCH_ROOM),
            (streams, {"id": bridge.janus_id}, NO_SUCH_MOUNTPOINT),
        ):
            try:
                await handle.request({"request": "destroy", "secret": bridge.secret, **body})
            except JanusError as error:
                if error.code != missing:
                    raise

    async def kick(self, bridge: MediaBridge, user_id: int) -> None:
        bridges, _ = await self._handles()
        try:
            await bridges.request(
                {
                    "request": "kick",
                    "room": bridge.janus_id,
                    "secret": bridge.secret,
                    "id": user_id,
                }
            )
        except JanusError as error:
            if error.code not in (NO_SUCH_ROOM, NO_SUCH_USER):
                raise

    async def mute(self, bridge: MediaBridge, user_id: int, muted: bool) -> None:
        bridges, _ = await self._handles()
        try:
            await bridges.request(
                {
                    "request": "mute" if muted else "unmute",
                    "room": bridge.janus_id,
                    "secret": bridge.secret,
                    "id": user_id,
                }
            )
        except JanusError as error:
            if error.code not in (NO_SUCH_ROOM, NO_SUCH_USER):
                raise

    async def participant_ids(self, bridge: MediaBridge) -> set[int]:
        bridges, _ = await self._handles()
        try:
            listed = await bridges.request({"request": "listparticipants", "room": bridge.janus_id})
        except JanusError as error:
            if error.code == NO_SUCH_ROOM:
                return set()
            raise
        return {p["id"] for p in listed.get("participants", []) if p["id"] < OBSERVER_ID_BASE}

    async def room_ids(self) -> set[int]:
        """Every AudioBridge room on the server (ours are private: the admin key lists them)."""
        bridges, _ = await self._handles()
        listed = await bridges.request({"request": "list", "admin_key": settings.JANUS_ADMIN_KEY})
        return {room["room"] for room in listed.get("list", [])}

    async def mountpoint_ids(self) -> set[int]:
        _, streams = await self._handles()
        listed = await streams.request({"request": "list", "admin_key": settings.JANUS_ADMIN_KEY})
        return {mountpoint["id"] for mountpoint in listed.get("list", [])}

    async def destroy_unknown(self, janus_id: int) -> None:
        """A room or mountpoint of ours with no row left: its secret derives from its id."""
        await self.destroy(MediaBridge(janus_id=janus_id))


T = TypeVar("T")


def control_run(command: Callable[[Control], Awaitable[T]]) -> T:
    """Runs one command on a short session of its own (sync callers)."""

    async def run():
        session = await Session.connect(settings.JANUS_URL, settings.JANUS_API_SECRET)
        try:
            return await command(Control(session))
        finally:
            await session.close()

    return async_to_sync(run)()


def control_try(command: Callable[[Control], Awaitable[object]], what: str) -> bool:
    """`control_run` for work after a commit: a media server that is down is logged, not
    raised (the sweep and the restart path mend what it missed)."""
    try:
        control_run(command)
    except (JanusLostError, JanusError) as error:
        logger.warning("Media server: could not %s: %s", what, error)
        return False
    return True

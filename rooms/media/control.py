"""Room-level commands to the media server: make, mend and destroy a room's bridge and
mountpoint, kick and mute participants. Every right is enforced here, at Janus, by the server:
nothing depends on the browser cooperating.

`Control` works on one Janus session. Sync code (services after commit, the sweep, admin)
calls `control_run`, which opens a short session for the command and closes it.
"""

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from uuid import UUID

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


def media_servers() -> list[str]:
    """The stage's Janus first, then the edges that carry more of the audience."""
    return [settings.JANUS_URL, *settings.JANUS_SERVERS]


def forward_host(server: str) -> str:
    """Where a Janus receives the stage's mix: the address of its API (a Janus on a Unix
    socket is on this machine)."""
    return "127.0.0.1" if server.startswith("unix:") else urlsplit(server).hostname


def recording_folder(room_id: UUID) -> Path:
    """Where the media server writes a room's recording, one WAV per part (a part starts
    when recording starts, and again if Janus restarts mid-room); the worker that makes
    the replay reads the same folder."""
    return Path(settings.RECORDINGS_DIR) / room_id.hex


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

    async def bridge_ensure(self, bridge: MediaBridge, *, record: bool = False) -> None:
        """Makes the room's AudioBridge room unless it exists (after a restart of ours or of
        Janus's, it may or may not); one made for a recording room records from the start."""
        bridges, _ = await self._handles()
        recording = (
            {"record": True, "record_dir": str(recording_folder(bridge.room_id))} if record else {}
        )
        try:
            await bridges.request(
                {
                    **recording,
                    "request": "create",
                    "room": bridge.janus_id,
                    "admin_key": settings.JANUS_ADMIN_KEY,
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

    async def recording_set(self, bridge: MediaBridge, on: bool) -> None:
        """Starts or stops recording the mix: a new part starts each time it starts."""
        await self.bridge_ensure(bridge, record=on)
        bridges, _ = await self._handles()
        body = {"request": "enable_recording", "room": bridge.janus_id, "secret": bridge.secret}
        if on:
            body["record_dir"] = str(recording_folder(bridge.room_id))
        await bridges.request({**body, "record": on})

    async def mountpoint_ensure(self, bridge: MediaBridge, *, host: str, port: int | None) -> int:
        """Makes the room's mountpoint on this server unless it exists, receiving on `host`;
        returns its port (`port`, when it existed: the one it was made with)."""
        _, streams = await self._handles()
        try:
            created = await streams.request(
                {
                    "request": "create",
                    "type": "rtp",
                    "id": bridge.janus_id,
                    "admin_key": settings.JANUS_ADMIN_KEY,
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
                            "iface": host,
                        }
                    ],
                }
            )
        except JanusError as error:
            if error.code not in ALREADY_EXISTS or port is None:
                raise
            return port
        return created["stream"]["ports"][0]["port"]

    async def forward_ensure(self, bridge: MediaBridge, *, host: str, port: int) -> None:
        """Forwards the stage's mix to a mountpoint (on this server or an edge) unless a
        forward to it exists."""
        bridges, _ = await self._handles()
        listed = await bridges.request(
            {"request": "listforwarders", "room": bridge.janus_id, "secret": bridge.secret}
        )
        if any(
            f.get("ip") == host and f.get("port") == port for f in listed.get("rtp_forwarders", [])
        ):
            return
        await bridges.request(
            {
                "request": "rtp_forward",
                "room": bridge.janus_id,
                "admin_key": settings.JANUS_ADMIN_KEY,
                "secret": bridge.secret,
                "host": host,
                "port": port,
                "codec": "opus",
                "ptype": OPUS_PT,
                "always_on": True,
            }
        )

    async def viewers(self, bridge: MediaBridge) -> int | None:
        """How many listeners watch the room's mountpoint on this server (None: none here)."""
        _, streams = await self._handles()
        try:
            info = await streams.request(
                {"request": "info", "id": bridge.janus_id, "secret": bridge.secret}
            )
        except JanusError as error:
            if error.code == NO_SUCH_MOUNTPOINT:
                return None
            raise
        return info.get("info", {}).get("viewers", 0)

    async def destroy(self, bridge: MediaBridge) -> None:
        """Destroying the bridge stops its forwards and kicks every participant; destroying
        a mountpoint hangs up its listeners. Either may be missing on this server."""
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
        await self._participant_request(bridge, "kick", user_id)

    async def mute(self, bridge: MediaBridge, user_id: int, muted: bool) -> None:
        await self._participant_request(bridge, "mute" if muted else "unmute", user_id)

    async def _participant_request(self, bridge: MediaBridge, request: str, user_id: int):
        """A moderator's request about one participant; one who is not (or no longer) there
        needs nothing."""
        bridges, _ = await self._handles()
        body = {"request": request, "room": bridge.janus_id, "secret": bridge.secret}
        try:
            await bridges.request({**body, "id": user_id})
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


def control_run(command: Callable[[Control], Awaitable[T]], server: str | None = None) -> T:
    """Runs one command on a short session of its own with a server (the stage's unless
    named), for sync callers."""

    async def run():
        session = await Session.connect(server or settings.JANUS_URL, settings.JANUS_API_SECRET)
        try:
            return await command(Control(session))
        finally:
            await session.close()

    return async_to_sync(run)()


def control_try(
    command: Callable[[Control], Awaitable[object]], what: str, server: str | None = None
) -> bool:
    """`control_run` for work after a commit: a media server that is down is logged, not
    raised (the sweep and the restart path mend what it missed)."""
    try:
        control_run(command, server)
    except (JanusLostError, JanusError) as error:
        logger.warning("Media server: could not %s: %s", what, error)
        return False
    return True

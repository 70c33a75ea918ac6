"""The room socket's media frames in SFU mode: each connection's listen and publish sessions,
held as Janus handles by this server process.

Browsers never talk to Janus. A listener asks to listen and gets the mountpoint's offer; a
person on stage sends an offer and gets the bridge's answer; the browser's candidates
follow over the room socket, and Janus's are in its descriptions. Audio enters a room only through a participant this process joined to the
bridge for someone the database puts on stage, under their own user id, so the server can
mute or kick them at Janus by that id.

One `MediaLink` per process holds the Janus session and, per room, an observer: a
participant without media whose events tell who is talking, relayed to this process's
connections as `speaking` frames.
"""

import asyncio
import logging
import secrets
import weakref
from dataclasses import dataclass
from datetime import datetime

import msgspec
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from core.errors import ApplicationError
from realtime.protocol import ServerFrame
from rooms import protocol
from rooms.media.control import OBSERVER_ID_BASE
from rooms.media.janus import AUDIOBRIDGE, STREAMING, Handle, JanusError, JanusLostError, Session
from rooms.media.services import (
    bridge_provision,
    mountpoint_release,
    mountpoint_take,
    speaking_spans_write,
)
from rooms.media.signalling import sdp_read, sdp_sends_media
from rooms.models import MediaBridge, MediaMountpoint, Room, RoomMember

logger = logging.getLogger(__name__)

# A connection holds at most a listen and a publish session, and a third while it moves
# between them (make-before-break).
MAX_SESSIONS = 3
SPEAKING_WRITE_SECONDS = 10
ID_EXISTS = 490


class RoomObserver:
    """This process's view of one room's bridge: who is talking, for its connections, and
    for the replay's chapters when the room records (spans written every
    SPEAKING_WRITE_SECONDS, and when the bridge goes)."""

    def __init__(self, bridge: MediaBridge):
        self.bridge = bridge
        self.talking: set[int] = set()
        self.connections: weakref.WeakSet[MediaSessions] = weakref.WeakSet()
        self.handle: Handle | None = None
        self.began: dict[int, datetime] = {}
        self.spans: list[tuple[int, datetime, datetime]] = []
        self.writing: asyncio.TimerHandle | None = None

    async def start(self, session: Session) -> None:
        self.handle = await session.attach(AUDIOBRIDGE, on_event=self._event)
        joined, _ = await self.handle.message(
            {
                "request": "join",
                "room": self.bridge.janus_id,
                "id": OBSERVER_ID_BASE + secrets.randbelow(2**40),
                "pin": self.bridge.pin,
                "display": "observer",
                "muted": True,
            }
        )
        self.talking = {p["id"] for p in joined.get("participants", []) if p.get("talking")}
        now = timezone.now()
        self.began = dict.fromkeys(self.talking, now)

    def _event(self, message: dict) -> None:
        data = message.get("plugindata", {}).get("data", {})
        talking = set(self.talking)
        if data.get("audiobridge") == "talking":
            talking.add(data.get("id"))
        elif data.get("audiobridge") == "stopped-talking":
            talking.discard(data.get("id"))
        ending = data.get("audiobridge") == "destroyed" or message.get("janus") == "hangup"
        if ending:
            talking.clear()
        for gone in ("leaving", "kicked"):
            if gone in data:
                talking.discard(data[gone])
        if talking != self.talking:
            self._note_spans(talking)
            self.talking = talking
            frame = protocol.Speaking(user_ids=sorted(talking))
            for connection in list(self.connections):
                connection.tell(frame)
        if not talking and self.spans:
            # The bridge or the connection to Janus went: this observer is done.
            self.write_spans(soon=not ending)

    def _note_spans(self, talking: set[int]) -> None:
        now = timezone.now()
        for user_id in talking - self.talking:
            self.began[user_id] = now
        for user_id in self.talking - talking:
            began = self.began.pop(user_id, None)
            if began is not None and isinstance(user_id, int) and user_id < OBSERVER_ID_BASE:
                self.spans.append((user_id, began, now))

    def write_spans(self, *, soon: bool = False) -> None:
        """Hands the spans seen so far to the database (when the room records): now, or
        within SPEAKING_WRITE_SECONDS so that a lively stage costs one write per room."""
        if soon:
            if self.writing is None:
                loop = asyncio.get_running_loop()
                self.writing = loop.call_later(SPEAKING_WRITE_SECONDS, self.write_spans)
            return
        if self.writing is not None:
            self.writing.cancel()
            self.writing = None
        spans, self.spans = self.spans, []
        if spans:
            room_id = self.bridge.room_id
            write = database_sync_to_async(speaking_spans_write)
            asyncio.get_running_loop().create_task(write(room_id=room_id, spans=spans))


class MediaLink:
    """This process's session with the media server (one per event loop)."""

    _per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MediaLink]" = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self):
        self.sessions: dict[str, Session] = {}
        self.lock = asyncio.Lock()
        self.observers: dict[str, RoomObserver] = {}
        self.connections: weakref.WeakSet[MediaSessions] = weakref.WeakSet()
        # (janus_id, server) pairs whose mountpoint and forward were made or found over
        # the current session with that server.
        self.verified: set[tuple[int, str]] = set()

    @classmethod
    def current(cls) -> "MediaLink":
        loop = asyncio.get_running_loop()
        if loop not in cls._per_loop:
            cls._per_loop[loop] = cls()
        return cls._per_loop[loop]

    async def connected(self, server: str | None = None) -> Session:
        """The session with a server (the stage's unless named), made again after a loss."""
        server = server or settings.JANUS_URL
        session = self.sessions.get(server)
        if session is None or session.lost.is_set():
            if server == settings.JANUS_URL:
                self.observers.clear()
            self.verified = {pair for pair in self.verified if pair[1] != server}
            session = await Session.connect(server, settings.JANUS_API_SECRET)
            self.sessions[server] = session
            asyncio.get_running_loop().create_task(self._watch(server, session))
        return session

    async def _watch(self, server: str, session: Session) -> None:
        await session.lost.wait()
        logger.warning("Lost the media server %s; its sessions are hung up.", server)
        for connection in list(self.connections):
            await connection.hangup_all("media_lost", server=server)

    async def mountpoint(self, room_id: str) -> tuple[MediaMountpoint, Session]:
        """A place for one more listener, and the session with its server."""
        mountpoint = await database_sync_to_async(mountpoint_take)(
            room_id=room_id, verified=frozenset(self.verified)
        )
        session = await self.connected(mountpoint.server)
        self.verified.add((mountpoint.bridge.janus_id, mountpoint.server))
        return mountpoint, session

    async def observer_drop(self, room_id: str, observer: RoomObserver) -> None:
        """The last connection of this process in the room went: so does its observer."""
        if self.observers.get(room_id) is observer:
            del self.observers[room_id]
        observer.write_spans()
        if observer.handle is not None:
            await observer.handle.detach()

    async def observer(self, room_id: str) -> RoomObserver:
        """The room's observer in this process, provisioning the room at Janus first (after
        a restart of Janus or of this process, whatever is missing is made again)."""
        async with self.lock:
            session = await self.connected()
            observer = self.observers.get(room_id)
            if observer is None:
                bridge = await database_sync_to_async(bridge_provision)(room_id=room_id)
                observer = RoomObserver(bridge)
                await observer.start(session)
                self.observers[room_id] = observer
            return observer


@dataclass
class MediaSession:
    id: str
    kind: str  # "listen" or "publish"
    handle: Handle
    server: str
    answered: bool = False
    # A listener's place, released when the session ends.
    mountpoint_id: int | None = None


class MediaSessions:
    """One room connection's sessions on the media server."""

    def __init__(self, *, room_id: str, user, send):
        self.room_id = room_id
        self.user = user
        self.send = send
        self.sessions: dict[str, MediaSession] = {}
        self.observer: RoomObserver | None = None
        self.link: MediaLink | None = None

    def tell(self, frame: ServerFrame) -> None:
        asyncio.get_running_loop().create_task(self.send(frame))

    # --- frames (rooms.media.handlers) ---------------------------------------------------

    async def listen(self, frame: protocol.MediaListen) -> None:
        session_id = frame.session
        await self._role()
        self._check_free(session_id)
        await self._join_room()
        mountpoint, janus = await self.link.mountpoint(self.room_id)
        session = MediaSession(
            session_id,
            "listen",
            await self._attach(janus, session_id, STREAMING),
            mountpoint.server,
            mountpoint_id=mountpoint.pk,
        )
        self.sessions[session_id] = session
        bridge = mountpoint.bridge
        try:
            _, jsep = await session.handle.message(
                {"request": "watch", "id": bridge.janus_id, "pin": bridge.pin}
            )
        except (JanusError, JanusLostError):
            await self._end(session)
            raise
        await self.send(protocol.MediaOffer(session=session_id, sdp=jsep["sdp"]))

    async def publish(self, frame: protocol.MediaPublish) -> None:
        session_id, sdp = frame.session, frame.sdp
        if not _one_audio_section(sdp):
            raise ApplicationError(
                "A publish offer has exactly one audio section and nothing else.",
                code="invalid_sdp",
            )
        member = await self._role()
        if member["role"] not in RoomMember.STAGE_ROLES:
            raise ApplicationError.forbidden("Only people on stage can speak.")
        for existing in [s for s in self.sessions.values() if s.kind == "publish"]:
            await self._end(existing)
        self._check_free(session_id)
        observer = await self._join_room()
        handle = await self._attach(await self.link.connected(), session_id, AUDIOBRIDGE)
        session = MediaSession(session_id, "publish", handle, settings.JANUS_URL, answered=True)
        self.sessions[session_id] = session
        join = {
            "request": "join",
            "room": observer.bridge.janus_id,
            "id": self.user.pk,
            "pin": observer.bridge.pin,
            "display": self.user.username,
            "muted": member["muted"],
        }
        try:
            try:
                _, jsep = await handle.message(join, {"type": "offer", "sdp": sdp})
            except JanusError as error:
                if error.code != ID_EXISTS:
                    raise
                # An older connection of theirs still holds the participant: it goes.
                await observer.handle.request(
                    {
                        "request": "kick",
                        "room": observer.bridge.janus_id,
                        "secret": observer.bridge.secret,
                        "id": self.user.pk,
                    }
                )
                _, jsep = await handle.message(join, {"type": "offer", "sdp": sdp})
        except (JanusError, JanusLostError):
            await self._end(session)
            raise
        # Their role may have changed while Janus answered: the database decides.
        if (await self._role())["role"] not in RoomMember.STAGE_ROLES:
            await self.hangup(session, "moved_to_audience")
            return
        await self.send(protocol.MediaAnswerSent(session=session_id, sdp=jsep["sdp"]))

    async def answer(self, frame: protocol.MediaAnswer) -> None:
        session = self._session(frame.session)
        sdp = frame.sdp
        if session.kind != "listen" or session.answered:
            raise ApplicationError("That session expects no answer.", code="invalid_state")
        if sdp_sends_media(sdp):
            raise ApplicationError(
                "A listener's answer receives only: its audio section is recvonly.",
                code="sdp_sends_audio",
                status=403,
            )
        session.answered = True
        await session.handle.message({"request": "start"}, {"type": "answer", "sdp": sdp})

    async def candidate(self, frame: protocol.MediaCandidate) -> None:
        session = self._session(frame.session)
        candidate = None
        if frame.candidate is not None:
            # Janus takes what identifies the candidate; the fragment is the session's.
            given = msgspec.to_builtins(frame.candidate)
            candidate = {
                key: given[key] for key in ("candidate", "sdpMid", "sdpMLineIndex") if key in given
            }
        await session.handle.trickle(candidate)

    async def leave(self, frame: protocol.MediaLeave) -> None:
        await self._end(self._session(frame.session))

    # --- the server's side -------------------------------------------------------------

    async def revoke(self, reason: str) -> None:
        """Their right to send ended (moved to the audience, removed): publish sessions end.
        The participant is kicked at Janus as well, by whoever made the change."""
        for session in [s for s in self.sessions.values() if s.kind == "publish"]:
            await self.hangup(session, reason)

    async def hangup(self, session: MediaSession, reason: str) -> None:
        if self.sessions.get(session.id) is not session:
            return
        await self._end(session)
        await self.send(protocol.MediaHangup(session=session.id, reason=reason))

    async def hangup_all(self, reason: str, server: str | None = None) -> None:
        for session in list(self.sessions.values()):
            if server is None or session.server == server:
                await self.hangup(session, reason)

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            await self._end(session)
        if self.link is not None:
            self.link.connections.discard(self)
        if self.observer is not None:
            self.observer.connections.discard(self)
            if not self.observer.connections:
                await self.link.observer_drop(self.room_id, self.observer)

    # --- helpers -----------------------------------------------------------------------

    async def _role(self) -> dict:
        member = await database_sync_to_async(_member_media)(
            room_id=self.room_id, user_id=self.user.pk
        )
        if member is None:
            raise ApplicationError.forbidden("You are not in this room.")
        if member["room__media"] != Room.Media.SFU:
            raise ApplicationError(
                "This room's audio goes over the mesh; use `signal`.", code="not_on_media_server"
            )
        return member

    async def _join_room(self) -> RoomObserver:
        if self.link is None:
            self.link = MediaLink.current()
            self.link.connections.add(self)
        observer = await self.link.observer(self.room_id)
        if observer is not self.observer:
            # Who is talking as they arrive; changes follow as they happen.
            self.observer = observer
            observer.connections.add(self)
            await self.send(protocol.Speaking(user_ids=sorted(observer.talking)))
        return observer

    def _check_free(self, session_id: str) -> None:
        if session_id in self.sessions:
            raise ApplicationError(
                "That session id is in use; pick a new one.", code="session_in_use"
            )
        if len(self.sessions) >= MAX_SESSIONS:
            raise ApplicationError(
                "Too many media sessions on one connection.", code="too_many_sessions"
            )

    async def _attach(self, session: Session, session_id: str, plugin: str) -> Handle:
        return await session.attach(
            plugin, on_event=lambda message: self._event(session_id, message)
        )

    def _event(self, session_id: str, message: dict) -> None:
        session = self.sessions.get(session_id)
        if session is None or message.get("janus") not in ("hangup", "detached"):
            return
        asyncio.get_running_loop().create_task(self._hung_up(session))

    async def _hung_up(self, session: MediaSession) -> None:
        """Janus ended a connection: the room ended, they were removed or moved to the
        audience (a kick), or the media went (the client starts over)."""
        reason = await database_sync_to_async(_hangup_reason)(
            room_id=self.room_id, user_id=self.user.pk, kind=session.kind
        )
        await self.hangup(session, reason)

    def _session(self, session_id: str) -> MediaSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise ApplicationError(
                "No such media session on this connection.", code="unknown_session"
            )
        return session

    async def _end(self, session: MediaSession) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        await session.handle.detach()
        if session.mountpoint_id is not None:
            await database_sync_to_async(mountpoint_release)(mountpoint_id=session.mountpoint_id)


def _member_media(*, room_id, user_id) -> dict | None:
    return (
        RoomMember.objects.filter(room_id=room_id, user_id=user_id)
        .values("role", "muted", "room__media")
        .first()
    )


def _hangup_reason(*, room_id, user_id, kind: str) -> str:
    if not Room.objects.filter(pk=room_id, status=Room.Status.LIVE).exists():
        return "ended"
    member = _member_media(room_id=room_id, user_id=user_id)
    if member is None:
        return "removed"
    if kind == "publish" and member["role"] not in RoomMember.STAGE_ROLES:
        return "moved_to_audience"
    return "media_lost"


def _one_audio_section(text: str) -> bool:
    return [section.kind for section in sdp_read(text).media] == ["audio"]

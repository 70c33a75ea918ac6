"""The room socket's protocol (`/ws/rooms/<room_id>/`): every frame type, both ways, declared
once. The consumer validates what browsers send against these declarations; services and
selectors build what the server sends from them; docs/protocol.md is generated from them
(`manage.py protocol_doc`).

Numbered frames (`carries_seq`) are the room's state events: they carry the room's
`seq`, one more than the last, so a client that sees a gap asks for a new snapshot. The
snapshot lists their types in `numbered`.
"""

from datetime import datetime
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from realtime.protocol import (
    ClientFrame,
    Count,
    Error,
    Id,
    Ping,
    Pong,
    Protocol,
    ServerFrame,
    UserSummary,
)
from rooms.models import CHAT_SLOW_SECONDS_MAX, Room, RoomMember

REACTIONS = ("👏", "❤️", "😂", "🔥", "💯", "🙌", "👍", "🎉", "😮", "🤔")
MAX_SDP_CHARS = 16 * 1024
MAX_CANDIDATE_CHARS = 1024

# A client's name for one of its peer connections (mesh) or media sessions (media server).
Session = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Sdp = Annotated[str, Meta(min_length=1, max_length=MAX_SDP_CHARS)]
MediaMode = Literal[tuple(Room.Media.values)]
Role = Literal[tuple(RoomMember.Role.values)]
EndReason = Literal["ended", "no_moderator", "staff"]
HangupReason = Literal["ended", "removed", "left", "moved_to_audience", "media_lost"]


# --- shapes inside frames ----------------------------------------------------------------


class Member(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Someone in the room. `invited`: a moderator invited them on stage and they have not
    answered. `connected` is false while someone on stage keeps their place after a lost
    connection."""

    user: UserSummary
    role: Role
    hand_raised: bool
    hand_raised_at: datetime | None
    muted: bool
    invited: bool
    connected: bool


class ClubRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The club a room belongs to."""

    slug: str
    name: str


class ChatSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The room's chat: `on` for everyone, `stage` for the people on stage, or `off`; and
    slow mode, the seconds each person waits between two messages (0: none)."""

    mode: Literal[tuple(Room.ChatMode.values)]
    slow_seconds: Annotated[int, Meta(ge=0, le=CHAT_SLOW_SECONDS_MAX)]


class RoomInfo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The room itself; `speaker_cap` is how many people the stage holds."""

    id: str
    title: str
    description: str
    visibility: Literal[tuple(Room.Visibility.values)]
    status: Literal[tuple(Room.Status.values)]
    host_id: Id
    club: ClubRef | None
    speaker_cap: Count
    started_at: datetime | None
    chat: ChatSettings
    recording: bool  # the media server records the stage for a replay


class MediaInfo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the room's audio travels: browser to browser (`mesh`) or through the media
    server (`sfu`)."""

    mode: MediaMode


class Description(msgspec.Struct, kw_only=True, frozen=True):
    """An RTCSessionDescriptionInit; its other fields are dropped."""

    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Annotated[str, Meta(max_length=MAX_SDP_CHARS)] = ""

    def __post_init__(self):
        if self.type != "rollback" and not self.sdp:
            raise ValueError("`description.sdp` is the session description")


class IceCandidate(
    msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, rename="camel"
):
    """An RTCIceCandidateInit, with only the fields a browser sends (`sdpMid`,
    `sdpMLineIndex`, `usernameFragment` on the wire)."""

    candidate: Annotated[str, Meta(max_length=MAX_CANDIDATE_CHARS)] | UnsetType = UNSET
    sdp_mid: str | UnsetType | None = UNSET
    sdp_m_line_index: Annotated[int, Meta(ge=0, le=65535)] | UnsetType | None = UNSET
    username_fragment: str | UnsetType | None = UNSET


# --- client → server ---------------------------------------------------------------------


class HandRaise(ClientFrame, tag="hand.raise"):
    """A listener asks to speak."""


class HandLower(ClientFrame, tag="hand.lower"):
    """Takes the raised hand back."""


class SpeakerInvite(ClientFrame, tag="speaker.invite"):
    """A moderator invites a listener on stage; the invitee gets `speaker.invited`."""

    user_id: Id


class SpeakerAccept(ClientFrame, tag="speaker.accept"):
    """The invitee comes on stage (muted). In a recording room, `record_consent: true` says
    they agree that their voice is recorded; without it the server answers
    `record_consent_required`."""

    record_consent: bool = False


class SpeakerDecline(ClientFrame, tag="speaker.decline"):
    """The invitee stays in the audience."""


class SpeakerLeave(ClientFrame, tag="speaker.leave"):
    """A speaker moves back to the audience."""


class SpeakerRemove(ClientFrame, tag="speaker.remove"):
    """A moderator moves a speaker back to the audience."""

    user_id: Id


class MuteSet(ClientFrame, tag="mute.set"):
    """Someone on stage mutes or unmutes themselves."""

    muted: bool


class RecordingSet(ClientFrame, tag="recording.set"):
    """A moderator starts (`on: true`) or stops recording the room for its replay; a room on
    the mesh moves to the media server first. People on stage who have not agreed to be
    recorded are muted until they do (`record.consent`)."""

    on: bool


class RecordConsentSet(ClientFrame, tag="record.consent"):
    """Someone on stage agrees (`consent: true`) that their voice enters the recording, or
    declines: a speaker who declines goes back to the audience, a moderator stays muted."""

    consent: bool


class MuteForce(ClientFrame, tag="mute.force"):
    """A moderator mutes a speaker (only they can unmute themselves)."""

    user_id: Id


class ModeratorGrant(ClientFrame, tag="moderator.grant"):
    """A moderator makes someone on stage a moderator."""

    user_id: Id


class ModeratorRevoke(ClientFrame, tag="moderator.revoke"):
    """A moderator takes another's moderator rights away (never the host's)."""

    user_id: Id


class MemberRemove(ClientFrame, tag="member.remove"):
    """A moderator removes someone, who cannot come back to this room."""

    user_id: Id


class RoomEnd(ClientFrame, tag="room.end"):
    """A moderator ends the room for everyone."""


class ReactionSend(ClientFrame, tag="reaction"):
    """A passing reaction, shown to everyone (neither stored nor numbered)."""

    emoji: Literal[REACTIONS]


class SnapshotRequest(ClientFrame, tag="snapshot.request"):
    """Asks for a new `room.snapshot` (after a gap in `seq`)."""


class AudienceMore(ClientFrame, tag="audience.more"):
    """Asks for the next `audience.page`, from `offset` listeners without a raised hand."""

    offset: Count


class RoomLeave(ClientFrame, tag="room.leave"):
    """Leaves for good, even from the stage; the server closes with 1000."""


class SignalSend(ClientFrame, tag="signal"):
    """Mesh mode: a WebRTC description or candidate for another member, relayed only along
    the mesh's edges (speakers to everyone, listeners to speakers)."""

    to: Id
    description: Description | None = None
    candidate: IceCandidate | None = None
    session: Session | UnsetType = UNSET

    def __post_init__(self):
        if (self.description is None) == (self.candidate is None):
            raise ValueError("A signal carries a description or a candidate")


class MediaListen(ClientFrame, tag="media.listen"):
    """Media-server mode: starts listening; the server answers `media.offer`."""

    session: Session


class MediaPublish(ClientFrame, tag="media.publish"):
    """Media-server mode, on stage only: an offer with one audio section; the server answers
    `media.answer`."""

    session: Session
    sdp: Sdp


class MediaAnswer(ClientFrame, tag="media.answer"):
    """The listener's (recvonly) answer to the server's `media.offer`."""

    session: Session
    sdp: Sdp


class MediaCandidate(ClientFrame, tag="media.candidate"):
    """A candidate of a media session; null means the end of candidates."""

    session: Session
    candidate: IceCandidate | None = None

    def __post_init__(self):
        if self.candidate is not None and self.candidate.candidate is UNSET:
            raise ValueError("`candidate` is an RTCIceCandidateInit or null")


class MediaLeave(ClientFrame, tag="media.leave"):
    """Ends a media session."""

    session: Session


# --- server → client ---------------------------------------------------------------------


class Numbered(ServerFrame):
    carries_seq: ClassVar[bool] = True
    seq: Count


class RoomSnapshot(ServerFrame, tag="room.snapshot"):
    """The first frame after connecting, and the answer to `snapshot.request`: the stage,
    raised hands and the first page of the audience; `numbered` lists the frame types that
    carry `seq`."""

    seq: Count
    room: RoomInfo
    media: MediaInfo
    members: list[Member]
    audience_count: Count
    me: Member | None
    you_blocked: list[Id]  # members the reader blocked, so their client can mark them
    record_consent: bool  # the reader agreed to be recorded in this room
    numbered: list[str]


class AudiencePage(ServerFrame, tag="audience.page"):
    """The answer to `audience.more`."""

    offset: Count
    members: list[Member]
    audience_count: Count


class MemberJoined(Numbered, tag="member.joined"):
    """Someone joined the stage (listeners arrive in `members.batch`)."""

    member: Member


class MemberUpdated(Numbered, tag="member.updated"):
    """A member changed: a hand, an invitation, a role, a mute, a lost connection."""

    member: Member


class MemberLeft(Numbered, tag="member.left"):
    """Someone on stage left; `removed` when a moderator or staff took them out. A listener
    who was taken out carries the audience's new size (a reader may not have them listed:
    past the first page, they are only counted)."""

    user_id: Id
    removed: Literal[True] | UnsetType = UNSET
    audience_count: Count | UnsetType = UNSET


class MembersBatch(Numbered, tag="members.batch"):
    """The audience's comings and goings, coalesced every ROOM_AUDIENCE_BATCH_SECONDS
    (ROOM_AUDIENCE_BATCH_SECONDS_BIG once the audience is past its first page).
    `joined` lists only the newcomers who fall on the first page of the audience (it is in
    order of arrival); the others are in `audience_count` and the pages of `audience.more`."""

    joined: list[Member]
    left: list[Id]
    audience_count: Count


class MediaModeChanged(Numbered, tag="media.mode"):
    """The room moved to the media server (never back)."""

    mode: MediaMode


class RoomUpdated(Numbered, tag="room.updated"):
    """A moderator changed the room's settings (its chat)."""

    chat: ChatSettings


class RecordingChanged(Numbered, tag="recording.changed"):
    """A moderator started or stopped recording the room."""

    recording: bool


class RoomEnded(Numbered, tag="room.ended"):
    """The last frame: the socket closes with 4404 after it."""

    reason: EndReason


class SpeakerInvited(ServerFrame, tag="speaker.invited"):
    """To the invitee only."""

    by: UserSummary


class Reaction(ServerFrame, tag="reaction"):
    """Someone's reaction, to everyone."""

    user_id: Id
    emoji: Literal[REACTIONS]


class SignalRelay(ServerFrame, tag="signal"):
    """A member's `signal`, to the member it names, with the sender in `from`."""

    from_: Id = msgspec.field(name="from")
    session: Session | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    candidate: IceCandidate | UnsetType = UNSET


class Speaking(ServerFrame, tag="speaking"):
    """Media-server mode: who is talking now (ephemeral)."""

    user_ids: list[Id]


class MediaOffer(ServerFrame, tag="media.offer"):
    """The media server's offer for a `media.listen` session (it only sends)."""

    session: Session
    sdp: str


class MediaAnswerSent(ServerFrame, tag="media.answer"):
    """The media server's answer to a `media.publish` offer."""

    session: Session
    sdp: str


class MediaHangup(ServerFrame, tag="media.hangup"):
    """The server ended a media session; the client starts it over if it still may."""

    session: Session
    reason: HangupReason


ROOM = Protocol(
    "room",
    path="/ws/rooms/<room_id>/",
    about=(
        "A member's connection to a live room. The first frame is `room.snapshot`; after it, "
        "numbered frames carry the room's `seq`, one more than the last, and a client that "
        "sees a gap sends `snapshot.request`. Numbered frames carry whole members, so "
        "applying one twice is harmless; the others (reactions, invitations, signals, media "
        "frames, errors, pongs) are ephemeral. In a mesh room audio goes browser to browser "
        "and `signal` carries WebRTC descriptions and candidates, relayed only along the "
        "mesh's edges; once `media.mode` says `sfu`, the `media.*` frames connect the browser "
        "to the media server through this socket instead, one session per connection "
        "(`session`, chosen by the client). The media server's own candidates come inside "
        "its descriptions, so the server sends no `media.candidate`. A client pings every "
        "15 seconds; a silent socket is closed (4408)."
    ),
    client=[
        Ping,
        HandRaise,
        HandLower,
        SpeakerInvite,
        SpeakerAccept,
        SpeakerDecline,
        SpeakerLeave,
        SpeakerRemove,
        MuteSet,
        MuteForce,
        RecordingSet,
        RecordConsentSet,
        ModeratorGrant,
        ModeratorRevoke,
        MemberRemove,
        RoomEnd,
        ReactionSend,
        SnapshotRequest,
        AudienceMore,
        RoomLeave,
        SignalSend,
        MediaListen,
        MediaPublish,
        MediaAnswer,
        MediaCandidate,
        MediaLeave,
    ],
    server=[
        RoomSnapshot,
        AudiencePage,
        MemberJoined,
        MemberUpdated,
        MemberLeft,
        MembersBatch,
        MediaModeChanged,
        RoomUpdated,
        RecordingChanged,
        RoomEnded,
        SpeakerInvited,
        Reaction,
        SignalRelay,
        Speaking,
        MediaOffer,
        MediaAnswerSent,
        MediaHangup,
        Error,
        Pong,
    ],
)

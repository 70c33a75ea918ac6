"""WebRTC signalling rules: which members may talk to which, and what listeners may offer.

The audio mesh: every speaker connects to every member; listeners connect only to speakers.
The server relays `signal` frames point to point and only along those edges, and refuses a
session description from someone who may not send audio when it offers to send any.
"""

import re
from dataclasses import dataclass

from config.errors import ApplicationError
from rooms import sdp
from rooms.models import RoomMember

DESCRIPTION_TYPES = {"offer", "answer", "pranswer", "rollback"}
CANDIDATE_FIELDS = {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}
# A client's name for one of its peer connections, so the other side can tell a peer that
# started over (a reload, a lost connection) from the one it is talking to.
SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")


def sdp_read(text: str) -> sdp.SessionDescription:
    """A client's session description, or a clear error when it cannot be read."""
    try:
        return sdp.parse(text)
    except sdp.SdpError as error:
        raise ApplicationError(
            f"That session description cannot be read: {error}", code="invalid_sdp"
        ) from error


def sdp_sends_media(text: str) -> bool:
    """True when any media section of the description would send, as a browser reads it.

    Directions resolve as RFC 3264 says (rooms.sdp); rejected sections send nothing. Any
    section that is not audio or video (a data channel) counts as sending: a listener has
    no use for one. A description that cannot be read unambiguously is refused.
    """
    description = sdp_read(text)
    return any(
        not section.rejected and (section.kind not in ("audio", "video") or section.sends())
        for section in description.media
    )


@dataclass
class Signal:
    to: int
    description: dict | None
    candidate: dict | None
    session: str | None = None

    def frame_fields(self) -> dict:
        fields = {} if self.session is None else {"session": self.session}
        if self.description is not None:
            fields["description"] = self.description
        if self.candidate is not None:
            fields["candidate"] = self.candidate
        return fields


def signal_parse(frame: dict) -> Signal:
    """Checks the shape of a client's `signal` frame."""
    to = frame.get("to")
    if not isinstance(to, int) or isinstance(to, bool):
        raise ApplicationError("`to` is the user id of a member of this room.", code="invalid")
    description, candidate = frame.get("description"), frame.get("candidate")
    if (description is None) == (candidate is None):
        raise ApplicationError("A signal carries a description or a candidate.", code="invalid")
    if description is not None:
        if not isinstance(description, dict) or description.get("type") not in DESCRIPTION_TYPES:
            raise ApplicationError(
                "`description.type` is offer, answer, pranswer or rollback.", code="invalid"
            )
        sdp = description.get("sdp", "")
        if not isinstance(sdp, str) or (description["type"] != "rollback" and not sdp):
            raise ApplicationError("`description.sdp` is the session description.", code="invalid")
        description = {"type": description["type"], "sdp": sdp}
    if candidate is not None and (
        not isinstance(candidate, dict) or not set(candidate) <= CANDIDATE_FIELDS
    ):
        raise ApplicationError("`candidate` is an RTCIceCandidateInit object.", code="invalid")
    session = frame.get("session")
    if session is not None and not (isinstance(session, str) and SESSION.fullmatch(session)):
        raise ApplicationError(
            "`session` names a peer connection: 1 to 64 letters, digits, - or _.",
            code="invalid",
        )
    return Signal(to=to, description=description, candidate=candidate, session=session)


def signal_route(*, room_id, sender_id: int, signal: Signal) -> str:
    """The channel to relay to, after checking the edge and the description."""
    if signal.to == sender_id:
        raise ApplicationError("A signal goes to someone else.", code="invalid")
    members = {
        m["user_id"]: m
        for m in RoomMember.objects.filter(
            room_id=room_id, user_id__in=[sender_id, signal.to]
        ).values("user_id", "role", "channel_name")
    }
    sender, target = members.get(sender_id), members.get(signal.to)
    if sender is None:
        raise ApplicationError.forbidden("You are not in this room.")
    if target is None or not target["channel_name"]:
        raise ApplicationError.not_found("That person is not connected to this room.")
    stage = RoomMember.STAGE_ROLES
    sender_on_stage = sender["role"] in stage
    if not sender_on_stage and target["role"] not in stage:
        raise ApplicationError.forbidden(
            "Listeners connect only to people on stage.",
        )
    if (
        not sender_on_stage
        and signal.description is not None
        and signal.description["type"] != "rollback"
        and sdp_sends_media(signal.description["sdp"])
    ):
        raise ApplicationError(
            "Listeners cannot send audio: every media section must be recvonly or inactive.",
            code="sdp_sends_audio",
            status=403,
        )
    return target["channel_name"]

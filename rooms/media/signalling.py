"""WebRTC signalling rules: which members may talk to which, and what listeners may offer.

The audio mesh: every speaker connects to every member; listeners connect only to speakers.
The server relays `signal` frames point to point and only along those edges, and refuses a
session description from someone who may not send audio when it offers to send any. The
frames' shape is declared in rooms.protocol (`signal`); `session` names one of the client's
peer connections, so the other side can tell a peer that started over from the one it is
talking to.
"""

from core.errors import ApplicationError
from rooms.media import sdp
from rooms.models import RoomMember
from rooms.protocol import SignalSend


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

    Directions resolve as RFC 3264 says (rooms.media.sdp); rejected sections send nothing. Any
    section that is not audio or video (a data channel) counts as sending: a listener has
    no use for one. A description that cannot be read unambiguously is refused.
    """
    description = sdp_read(text)
    return any(
        not section.rejected and (section.kind not in ("audio", "video") or section.sends())
        for section in description.media
    )


def signal_route(*, room_id, sender_id: int, signal: SignalSend) -> str:
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
        and signal.description.type != "rollback"
        and sdp_sends_media(signal.description.sdp)
    ):
        raise ApplicationError(
            "Listeners cannot send audio: every media section must be recvonly or inactive.",
            code="sdp_sends_audio",
            status=403,
        )
    return target["channel_name"]

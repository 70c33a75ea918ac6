"""The stage's frames: each calls one service with the actor, the room and the frame's
fields, in a thread (the services use the ORM)."""

from collections.abc import Callable

from channels.db import database_sync_to_async

from realtime.protocol import ClientFrame
from rooms import protocol
from rooms.handlers import room_handlers
from rooms.limits import FloodGuard
from rooms.services import lifecycle, recording, stage


def _service_call(declared: type[ClientFrame], service: Callable, *fields: str) -> None:
    @room_handlers.register(declared, budget=FloodGuard.ACTION)
    async def handle(connection, frame) -> None:
        arguments = {field: getattr(frame, field) for field in fields}
        await database_sync_to_async(service)(
            actor=connection.user, room_id=connection.room_id, **arguments
        )


_service_call(protocol.HandRaise, stage.hand_raise)
_service_call(protocol.HandLower, stage.hand_lower)
_service_call(protocol.SpeakerInvite, stage.speaker_invite, "user_id")
_service_call(protocol.SpeakerAccept, stage.speaker_accept, "record_consent")
_service_call(protocol.SpeakerDecline, stage.speaker_decline)
_service_call(protocol.SpeakerLeave, stage.speaker_leave)
_service_call(protocol.SpeakerRemove, stage.speaker_remove, "user_id")
_service_call(protocol.MuteSet, stage.mute_set, "muted")
_service_call(protocol.MuteForce, stage.mute_force, "user_id")
_service_call(protocol.RecordingSet, recording.recording_set, "on")
_service_call(protocol.RecordConsentSet, recording.record_consent_set, "consent")
_service_call(protocol.ModeratorGrant, stage.moderator_grant, "user_id")
_service_call(protocol.ModeratorRevoke, stage.moderator_revoke, "user_id")
_service_call(protocol.MemberRemove, stage.member_remove, "user_id")
_service_call(protocol.RoomEnd, lifecycle.room_end)
_service_call(protocol.ReactionSend, stage.reaction_send, "emoji")

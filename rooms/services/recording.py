"""Recording a room for its replay, with the consent of everyone heard in it.

The media server records the stage's mix, which is what the listeners hear, so a room
records only there: a room on the mesh moves first. Nobody's voice enters the mix without
their consent: while a room records, nobody comes on stage or unmutes without a
`RecordConsent`, and when recording starts, those on stage who have not agreed are muted at
the media server (their browsers cannot undo it) until they agree; a speaker who declines
goes back to the audience.
"""

from uuid import UUID

from django.db import transaction

from accounts.models import User
from core.errors import ApplicationError
from rooms import events, protocol, signals
from rooms.media.services import media_can_move, media_recording_changed, media_room_move
from rooms.models import RecordConsent, Room, RoomMember
from rooms.permissions import member_in_room, room_access_as_moderator
from rooms.services.common import locked_live_room, member_save

NEEDS_MEDIA_SERVER = "Recording needs the media server, and this site does not run one."
CONSENT_REQUIRED = "This room is recorded: agree that your voice is in the replay to speak here."


def recording_available() -> bool:
    return media_can_move()


def recording_check_available() -> None:
    if not recording_available():
        raise ApplicationError(NEEDS_MEDIA_SERVER, code="recording_unavailable")


def record_consent_given(*, room: Room, user_id: int) -> bool:
    return RecordConsent.objects.filter(room=room, user_id=user_id).exists()


def record_consent_require(*, room: Room, user_id: int, consent: bool) -> None:
    """In a recording room: records the consent given now, or refuses without one."""
    if not room.recording:
        return
    if consent:
        RecordConsent.objects.get_or_create(room=room, user_id=user_id)
    elif not record_consent_given(room=room, user_id=user_id):
        raise ApplicationError(CONSENT_REQUIRED, code="record_consent_required")


@transaction.atomic
def recording_set(*, actor: User, room_id: UUID | str, on: bool) -> Room:
    """A moderator starts or stops recording a live room (their own consent comes with it)."""
    room = locked_live_room(room_id)
    room_access_as_moderator(user=actor, room=room)
    if room.recording == on:
        return room
    if on:
        recording_check_available()
        if room.media == Room.Media.MESH:
            media_room_move(room)
        RecordConsent.objects.get_or_create(room=room, user=actor)
        agreed = set(RecordConsent.objects.filter(room=room).values_list("user_id", flat=True))
        unmuted = RoomMember.objects.filter(
            room=room, role__in=RoomMember.STAGE_ROLES, muted=False
        ).exclude(user_id__in=agreed)
        # Muted before the recording starts: these commands reach the media server first.
        for member in unmuted.select_related("user"):
            member.muted = True
            member_save(room, member, "muted")
    room.recording = on
    room.save(update_fields=["recording"])
    events.publish(room, protocol.RecordingChanged, recording=on)
    media_recording_changed(room)
    signals.recording_changed.send(Room, room=room, actor=actor)
    return room


@transaction.atomic
def record_consent_set(*, actor: User, room_id: UUID | str, consent: bool) -> RoomMember:
    """Agrees to be recorded in this room, or takes it back: a speaker who declines goes to
    the audience, a moderator stays muted while the room records."""
    room = locked_live_room(room_id)
    me = member_in_room(room=room, user_id=actor.pk)
    if consent:
        RecordConsent.objects.get_or_create(room=room, user=actor)
        return me
    RecordConsent.objects.filter(room=room, user=actor).delete()
    if not room.recording:
        return me
    if me.role == RoomMember.Role.SPEAKER:
        me.role, me.muted = RoomMember.Role.LISTENER, True
        return member_save(room, me, "role", "muted")
    if me.on_stage and not me.muted:
        me.muted = True
        member_save(room, me, "muted")
    return me

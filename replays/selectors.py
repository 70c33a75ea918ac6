"""Reading replays: who may listen follows the access rule of the room."""

from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from accounts.models import User
from core.errors import ApplicationError
from follows.models import Club
from replays.models import Replay, Transcript, TranscriptSegment
from rooms.access import room_refusal, rooms_open_to_visitors
from rooms.models import Room
from rooms.selectors import rooms_visible_to

NOT_FOUND = "There is no replay of this room."


def replay_visible(*, user: User | AnonymousUser, room_id: UUID | str) -> Replay:
    """The room's replay, for someone who may see the room (signed out: an open room);
    otherwise 404, as for a replay that does not exist."""
    try:
        replay = Replay.objects.select_related("room", "room__club", "room__host").get(
            room_id=room_id
        )
    except (Replay.DoesNotExist, ValueError):
        raise ApplicationError.not_found(NOT_FOUND) from None
    if user.is_authenticated:
        visible = room_refusal(user=user, room=replay.room) is None
    else:
        visible = Room.objects.filter(pk=replay.room_id).filter(rooms_open_to_visitors()).exists()
    if not visible:
        raise ApplicationError.not_found(NOT_FOUND)
    return replay


def replay_chapter_people(replay: Replay) -> dict[int, User]:
    """The people its chapters name, in one query."""
    ids = {chapter["user_id"] for chapter in replay.chapters}
    return {user.pk: user for user in User.objects.filter(pk__in=ids)}


def replays_ready(
    *, viewer: User | None, club: Club | None = None, person: User | None = None, limit: int = 6
) -> list[Replay]:
    """The newest ready replays of a club's rooms, or of rooms a person hosted or was heard
    in, that the viewer (None: someone signed out) may see."""
    replays = Replay.objects.filter(
        status=Replay.Status.READY, room__in=rooms_visible_to(viewer)
    ).select_related("room", "room__host", "room__club")
    if club is not None:
        replays = replays.filter(room__club=club)
    if person is not None:
        replays = replays.filter(Q(room__host=person) | Q(speakers=person)).distinct()
    return list(replays.order_by("-room__ended_at")[:limit])


def transcript_segments(
    *, user: User | AnonymousUser, room_id: UUID | str
) -> list[TranscriptSegment]:
    """The segments of a replay's ready transcript, with their speakers, for someone who may
    hear the replay; 404 while there is none."""
    replay = replay_visible(user=user, room_id=room_id)
    if not Transcript.objects.filter(replay=replay, status=Transcript.Status.READY).exists():
        raise ApplicationError.not_found("There is no transcript of this replay.")
    return list(TranscriptSegment.objects.filter(transcript__replay=replay).select_related("user"))

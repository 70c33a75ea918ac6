from datetime import timedelta

from django.utils import timezone

from rooms.models import Room


def recorded_room(host, *, seconds_ago: float = 0, title: str = "Taped") -> Room:
    """A room that recorded on the media server and ended `seconds_ago`."""
    ended = timezone.now() - timedelta(seconds=seconds_ago)
    return Room.objects.create(
        host=host,
        title=title,
        speaker_cap=5,
        status=Room.Status.ENDED,
        media=Room.Media.SFU,
        recording=True,
        started_at=ended - timedelta(minutes=5),
        ended_at=ended,
    )

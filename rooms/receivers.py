"""What rooms do when follows announces a change. Connected in RoomsConfig.ready; each runs
inside the announcing service's transaction."""

from django.dispatch import receiver

from follows import signals as follows_signals
from rooms.models import Room
from rooms.services.lifecycle import room_end


@receiver(follows_signals.club_deleting)
def cancel_rooms_of_deleted_club(sender, *, club, **kwargs):
    """A club that goes takes its scheduled rooms with it: each is cancelled, so the people
    waiting for it are told (a live room goes on, without its club)."""
    for room_id in Room.objects.filter(club=club, status=Room.Status.SCHEDULED).values_list(
        "pk", flat=True
    ):
        room_end(actor=None, room_id=room_id, note=f"cancelled: the club {club.name} was deleted")

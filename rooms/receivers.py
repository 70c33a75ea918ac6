"""What rooms do when follows announces a change. Connected in RoomsConfig.ready; each runs
inside the announcing service's transaction."""

from django.dispatch import receiver

from follows import signals as follows_signals
from follows.models import ClubBan
from rooms.models import Room, RoomBan
from rooms.services.lifecycle import room_end


@receiver(follows_signals.club_deleting)
def cancel_rooms_of_deleted_club(sender, *, club, **kwargs):
    """A club that goes takes its scheduled rooms with it: each is cancelled, so the people
    waiting for it are told. A live room goes on without its club, and the people the club
    banned stay out of it: its bans become the room's own (they used to lapse with the
    club)."""
    for room_id in Room.objects.filter(club=club, status=Room.Status.SCHEDULED).values_list(
        "pk", flat=True
    ):
        room_end(actor=None, room_id=room_id, note=f"cancelled: the club {club.name} was deleted")
    live = list(
        Room.objects.filter(club=club, status=Room.Status.LIVE).values_list("pk", flat=True)
    )
    bans = list(ClubBan.objects.filter(club=club).values_list("user_id", "banned_by_id"))
    RoomBan.objects.bulk_create(
        (
            RoomBan(room_id=room_id, user_id=user_id, banned_by_id=banned_by_id)
            for room_id in live
            for user_id, banned_by_id in bans
        ),
        ignore_conflicts=True,
    )

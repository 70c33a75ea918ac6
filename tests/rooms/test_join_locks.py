"""Which lock a join or a leave takes on the room's row (Postgres): listeners coming into (or
leaving) a room with space to spare share it, so they do not wait for each other while a
change to the room waits for them; anyone else takes it in turn."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from rooms.models import Room, RoomMember
from rooms.services.presence import JOINS_IN_FLIGHT, room_join, room_leave
from tests.factories import UserFactory
from tests.rooms.factories import member

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite locks the whole database, not rows"
    ),
]


class JoinHeldOpen:
    """A join in a thread of its own whose transaction stays open (its locks held) for the
    `with` block."""

    def __init__(self, user, room):
        self.joined, self.release = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(user, room))

    def __enter__(self):
        self.thread.start()
        assert self.joined.wait(30), self.errors
        return self

    def __exit__(self, *exc_info):
        self.release.set()
        self.thread.join(30)
        assert not self.errors, self.errors

    def _run(self, user, room):
        try:
            with transaction.atomic():
                room_join(user=user, room_id=room.pk, channel_name=f"held!{user.pk}")
                self.joined.set()
                self.release.wait(30)
        except BaseException as error:  # the test reads it
            self.errors.append(error)
            self.joined.set()
        finally:
            connection.close()


def _without_waiting(action):
    """Runs `action` in a transaction that gives up at once on a lock someone holds."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '50ms'")
        return action()


def _waits(action) -> None:
    """`action` waits for a lock the held join holds."""
    with pytest.raises(OperationalError, match="lock"):
        _without_waiting(action)


@pytest.fixture
def roomy(live_room, settings):
    settings.ROOM_MAX_MEMBERS = 1000
    return live_room


def test_listeners_coming_in_together_do_not_wait_for_each_other(roomy):
    first, second = UserFactory(), UserFactory()
    with JoinHeldOpen(first, roomy):
        joined = _without_waiting(
            lambda: room_join(user=second, room_id=roomy.pk, channel_name="c!second")
        )
    assert joined.batched
    members = set(RoomMember.objects.filter(room=roomy).values_list("user_id", flat=True))
    assert {first.pk, second.pk} <= members


def test_a_change_to_the_room_waits_for_a_listener_coming_in(roomy):
    with JoinHeldOpen(UserFactory(), roomy):
        _waits(lambda: Room.objects.select_for_update().get(pk=roomy.pk))


def test_a_room_near_its_cap_takes_its_listeners_in_turn(live_room, settings):
    present = RoomMember.objects.filter(room=live_room).count()
    # Space for the first with JOINS_IN_FLIGHT to spare, and one person less after.
    settings.ROOM_MAX_MEMBERS = present + 1 + JOINS_IN_FLIGHT
    with JoinHeldOpen(UserFactory(), live_room):
        member(live_room, UserFactory())
        _waits(lambda: room_join(user=UserFactory(), room_id=live_room.pk, channel_name="c!late"))


def test_a_moderator_comes_in_under_the_room_s_lock(roomy):
    with JoinHeldOpen(UserFactory(), roomy):
        _waits(lambda: room_join(user=roomy.host, room_id=roomy.pk, channel_name="c!host"))


def test_a_listener_leaves_without_waiting_for_others_coming_in(roomy):
    leaving = UserFactory()
    member(roomy, leaving, channel="c!leaving")
    with JoinHeldOpen(UserFactory(), roomy):
        left = _without_waiting(
            lambda: room_leave(user=leaving, room_id=roomy.pk, channel_name="c!leaving")
        )
    assert left.batched
    assert not RoomMember.objects.filter(room=roomy, user=leaving).exists()


def test_a_speaker_leaves_under_the_room_s_lock(roomy):
    speaker = UserFactory()
    member(roomy, speaker, RoomMember.Role.SPEAKER, channel="c!speaker")
    with JoinHeldOpen(UserFactory(), roomy):
        _waits(lambda: room_leave(user=speaker, room_id=roomy.pk))
    assert RoomMember.objects.filter(room=roomy, user=speaker).exists()

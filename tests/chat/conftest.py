import pytest

from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.rooms.factories import member

Role = RoomMember.Role


@pytest.fixture
def host(db):
    return UserFactory(username="host", display_name="Host")


@pytest.fixture
def live_room(host) -> Room:
    room = room_create(host=host, title="Chatty talk")
    member(room, host, Role.MODERATOR)
    return room


@pytest.fixture
def listener(live_room):
    person = UserFactory(username="listener")
    member(live_room, person)
    return person


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)

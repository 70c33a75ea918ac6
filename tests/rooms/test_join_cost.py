"""What a socket's arrival costs the database: one trip to a worker thread, a fixed number
of queries whatever the room's size."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore

from core.errors import ApplicationError
from follows.models import Block
from rooms.consumers import _arrive
from rooms.models import RoomMember
from tests.factories import UserFactory
from tests.rooms.factories import member
from tests.support.helpers import count_queries

pytestmark = pytest.mark.django_db


def _scope_of(user) -> dict:
    """A socket's scope as the session middleware leaves it: the session, no user yet."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {"session": SessionStore(session.session_key)}


def test_a_listener_arrives_with_the_same_queries_in_any_room(live_room, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 5
    settings.ROOM_MAX_MEMBERS = 1000
    for _ in range(6):
        member(live_room, UserFactory())
    _arrive(_scope_of(UserFactory()), str(live_room.pk), "c!first")  # reads the shared part
    scope = _scope_of(UserFactory())
    small = count_queries(lambda: _arrive(scope, str(live_room.pk), "c!a"))
    for _ in range(30):
        member(live_room, UserFactory())
    _arrive(_scope_of(UserFactory()), str(live_room.pk), "c!again")
    scope = _scope_of(UserFactory())
    large = count_queries(lambda: _arrive(scope, str(live_room.pk), "c!b"))
    # The user (the session is cached), the room locked with who is in it, what the rule
    # says of them and whether they blocked anyone, the insert; and the savepoint around
    # the join (a transaction outside tests).
    assert small == large == 5


def test_someone_who_blocked_people_arrives_with_them_for_two_queries_more(live_room, settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 5
    for _ in range(6):
        member(live_room, UserFactory())
    _arrive(_scope_of(UserFactory()), str(live_room.pk), "c!first")  # reads the shared part
    person, blocked = UserFactory(), UserFactory()
    Block.objects.create(blocker=person, blocked=blocked)
    arrivals = []
    scope = _scope_of(person)
    queries = count_queries(lambda: arrivals.append(_arrive(scope, str(live_room.pk), "c!p")))
    # Whom they blocked, and which of those are in the room.
    assert queries == 5 + 2
    assert arrivals[0].blocked == {blocked.pk}


def test_an_arrival_is_refused_without_a_session(live_room):
    with pytest.raises(ApplicationError) as refused:
        _arrive({"session": SessionStore()}, str(live_room.pk), "c!anon")
    assert refused.value.status == 401
    assert not RoomMember.objects.filter(room=live_room).exists()


def test_an_arrival_reads_the_person_from_the_session(live_room):
    person = UserFactory()
    arrival = _arrive(_scope_of(person), str(live_room.pk), "c!p")
    assert arrival.user == person
    assert arrival.snapshot.me.user.id == person.pk
    assert RoomMember.objects.get(room=live_room, user=person).channel_name == "c!p"

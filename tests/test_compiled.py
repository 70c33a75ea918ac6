"""Querysets compiled once and run with real values (core.compiled), on either database."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.signals import post_save
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from core.compiled import STAND_IN_ID, STAND_IN_UUID, Compiled, CompiledInsert
from follows.models import ClubMembership
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create
from rooms.services.presence import room_join
from tests.factories import ClubFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOMS = Compiled(
    lambda room_id, user_id: (
        Room.objects.select_related("club")
        .filter(pk=room_id)
        .annotate(
            present=Count("members"),
            mine=Subquery(
                RoomMember.objects.filter(room=OuterRef("pk"), user_id=user_id).values("pk")
            ),
        )
    ),
    room_id=STAND_IN_UUID,
    user_id=STAND_IN_ID,
)


@pytest.fixture
def rooms():
    host = UserFactory()
    club = ClubFactory(name="Night owls")
    MembershipFactory(club=club, user=host, role=ClubMembership.Role.LEADER)
    in_club = room_create(host=host, title="In a club", club=club)
    alone = room_create(host=UserFactory(), title="On its own")
    guest = UserFactory()
    room_join(user=guest, room_id=in_club.pk, channel_name="test!guest")
    return in_club, alone, guest


def test_each_call_gets_its_own_values_and_the_models_django_would_make(
    rooms, django_assert_num_queries
):
    in_club, alone, guest = rooms
    for room, user, mine in [
        (in_club, guest, RoomMember.objects.get(room=in_club, user=guest).pk),
        (alone, guest, None),
        (in_club, UserFactory(), None),
    ]:
        expected = Room.objects.select_related("club").get(pk=room.pk)
        with django_assert_num_queries(1):
            found = ROOMS.first(room_id=room.pk, user_id=user.pk)
            club = found.club  # came with the room
        assert isinstance(found, Room)
        assert found.pk == room.pk
        assert found._state.adding is False
        assert {f.attname: getattr(found, f.attname) for f in Room._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in Room._meta.concrete_fields
        }
        assert club == expected.club
        assert (found.present, found.mine) == (room.members.count(), mine)
    assert in_club.club.name == "Night owls"


def test_a_room_id_as_text_and_a_room_that_does_not_exist(rooms):
    in_club, _, guest = rooms
    assert ROOMS.first(room_id=str(in_club.pk), user_id=guest.pk).pk == in_club.pk
    assert ROOMS.first(room_id=uuid.uuid4(), user_id=guest.pk) is None
    with pytest.raises(ValueError, match="hexadecimal"):
        ROOMS.first(room_id="not a uuid", user_id=guest.pk)


@pytest.mark.django_db(transaction=True)
def test_a_locking_query_runs_only_in_a_transaction_where_django_asks_for_one(rooms):
    in_club, _, _ = rooms
    locking = Compiled(
        lambda room_id: Room.objects.select_for_update().filter(pk=room_id), room_id=STAND_IN_UUID
    )
    with transaction.atomic():  # compiled here, where Django allows it
        assert locking.first(room_id=in_club.pk).pk == in_club.pk
    try:
        Room.objects.select_for_update().filter(pk=in_club.pk).first()
    except TransactionManagementError:
        django_refuses = True  # Postgres
    else:
        django_refuses = False  # SQLite locks the whole database, not rows
    try:
        locking.first(room_id=in_club.pk)
    except TransactionManagementError:
        refused = True
    else:
        refused = False
    assert refused == django_refuses


def test_times_among_the_parameters_are_the_time_of_each_run(monkeypatch):
    now = timezone.now()
    person = UserFactory(suspended_until=now + timedelta(hours=1))
    suspended = Compiled(
        lambda user_id: User.objects.filter(pk=user_id, suspended_until__gt=timezone.now()),
        times_are_now=True,
        user_id=STAND_IN_ID,
    )
    assert suspended.first(user_id=person.pk) == person
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=2))
    assert suspended.first(user_id=person.pk) is None


def test_percent_signs_and_many_parameters_survive_compilation():
    """A LIKE against another column puts literal `%` in the SQL; over 50 parameters is
    what psycopg would parse again on every run."""
    match = UserFactory(username="night_owl", display_name="owl")
    UserFactory(username="early_bird", display_name="owl")
    names = [f"nobody{n}" for n in range(60)]
    query = Compiled(
        lambda user_id: (
            User.objects.filter(username__contains=F("display_name"))
            .exclude(username__in=names)
            .filter(pk__gte=user_id)
        ),
        user_id=STAND_IN_ID,
    )
    assert query.first(user_id=match.pk) == match
    assert query.first(user_id=match.pk + 1000) is None


def test_a_stand_in_in_the_select_list_is_a_value_too(rooms):
    """Django hands a number in the select list over typed (psycopg's Int4 on Postgres)."""
    _, alone, guest = rooms
    asked = Compiled(
        lambda room_id, user_id: Room.objects.filter(pk=room_id).annotate(
            asked_for=Value(user_id, output_field=IntegerField())
        ),
        room_id=STAND_IN_UUID,
        user_id=STAND_IN_ID,
    )
    for person in (guest, UserFactory()):
        assert asked.first(room_id=alone.pk, user_id=person.pk).asked_for == person.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres prepares statements")
@pytest.mark.django_db(transaction=True)
def test_on_postgres_a_query_is_prepared_once_per_connection_and_outlives_a_rollback(rooms):
    in_club, alone, guest = rooms
    query = Compiled(
        lambda room_id, user_id: Room.objects.filter(pk=room_id).exclude(host_id=user_id),
        room_id=STAND_IN_UUID,
        user_id=STAND_IN_ID,
    )

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = %s",
                [query._plan().statement.name],
            )
            return cursor.fetchone()[0]

    def first_run_then_a_failure():
        with transaction.atomic():
            assert query.first(room_id=alone.pk, user_id=guest.pk).pk == alone.pk
            User.objects.create(username=guest.username)

    # The first run, in a transaction that is rolled back.
    with pytest.raises(IntegrityError):
        first_run_then_a_failure()
    assert prepared() == 1
    with CaptureQueriesContext(connection) as ran:
        assert [query.first(room_id=r.pk, user_id=guest.pk).pk for r in (in_club, alone)] == [
            in_club.pk,
            alone.pk,
        ]
        assert query.first(room_id=in_club.pk, user_id=in_club.host_id) is None
    # Each run sent only its values, to the statement prepared on the first.
    assert [q["sql"].partition("(")[0] for q in ran] == [
        f"EXECUTE {query._plan().statement.name}"
    ] * 3
    assert prepared() == 1


NEW_MEMBER = CompiledInsert(RoomMember)


def test_an_insert_writes_the_row_create_would(rooms, django_assert_num_queries):
    _, alone, guest = rooms
    seen = timezone.now()
    with django_assert_num_queries(1):
        made = NEW_MEMBER.create(
            room=alone,
            user=guest,
            role=RoomMember.Role.LISTENER,
            last_seen=seen,
            channel_name="c!1",
        )
    assert made._state.adding is False
    stored = RoomMember.objects.get(pk=made.pk)
    assert {f.attname: getattr(made, f.attname) for f in RoomMember._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in RoomMember._meta.concrete_fields
    }
    assert (stored.room_id, stored.user_id, stored.channel_name, stored.last_seen) == (
        alone.pk,
        guest.pk,
        "c!1",
        seen,
    )
    assert stored.joined_at is not None  # auto_now_add, as create sets it
    assert stored.muted is True  # the field's default
    # The same person twice in a room: the database's constraint, as with create.
    with pytest.raises(IntegrityError), transaction.atomic():
        NEW_MEMBER.create(room=alone, user=guest, last_seen=seen)


def test_an_insert_sends_the_save_signals_while_someone_listens(rooms):
    _, alone, guest = rooms
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=RoomMember)
    try:
        made = NEW_MEMBER.create(room=alone, user=guest, last_seen=timezone.now())
    finally:
        post_save.disconnect(receiver, sender=RoomMember)
    assert heard == [(made.pk, True)]

"""Querysets built once and run with each call's values (core.compiled), on either database."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Count, F, OuterRef, Subquery, UUIDField
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.compiled import Compiled
from follows.models import ClubMembership
from replays.models import Replay
from rooms.models import Room, RoomMember
from rooms.services.common import locked_room
from rooms.services.lifecycle import room_create
from rooms.services.presence import room_join
from tests.factories import ClubFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOMS = Compiled(
    lambda room_id, user_id: Room.objects.filter(pk=room_id).annotate(
        present=Count("members"),
        mine=Subquery(RoomMember.objects.filter(room=OuterRef("pk"), user_id=user_id).values("pk")),
        asked_for=user_id,
    ),
    room_id=UUIDField(),
    user_id=BigIntegerField(),
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
        expected = Room.objects.get(pk=room.pk)
        with django_assert_num_queries(1):
            found = ROOMS.first(room_id=room.pk, user_id=user.pk)
        assert isinstance(found, Room)
        assert found.pk == room.pk
        assert found._state.adding is False
        assert {f.attname: getattr(found, f.attname) for f in Room._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in Room._meta.concrete_fields
        }
        # The annotations, a value given in the select list among them.
        assert (found.present, found.mine, found.asked_for) == (
            room.members.count(),
            mine,
            user.pk,
        )


def test_a_room_id_as_text_and_a_room_that_does_not_exist(rooms):
    in_club, _, guest = rooms
    assert ROOMS.first(room_id=str(in_club.pk), user_id=guest.pk).pk == in_club.pk
    assert ROOMS.first(room_id=uuid.uuid4(), user_id=guest.pk) is None
    with pytest.raises(ValidationError):
        ROOMS.first(room_id="not a uuid", user_id=guest.pk)


@pytest.mark.django_db(transaction=True)
def test_the_locked_room_comes_with_its_club_in_one_query(rooms, django_assert_num_queries):
    in_club, alone, _ = rooms
    with transaction.atomic():
        with django_assert_num_queries(1):
            room = locked_room(in_club.pk)
            assert (room.club.pk, room.club.slug, room.club.name) == (
                in_club.club_id,
                in_club.club.slug,
                "Night owls",
            )
        assert "club_name_read" not in vars(room)
        with django_assert_num_queries(1):
            assert locked_room(alone.pk).club is None
        # The club's other fields are there when asked for.
        with django_assert_num_queries(1):
            assert room.club.created == in_club.club.created


@pytest.mark.django_db(transaction=True)
def test_a_locking_query_runs_only_in_a_transaction_where_django_asks_for_one(rooms):
    in_club, _, _ = rooms
    locking = Compiled(
        lambda room_id: Room.objects.select_for_update().filter(pk=room_id), room_id=UUIDField()
    )
    with transaction.atomic():  # built here, where Django allows it
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


@pytest.mark.django_db(transaction=True)
def test_shared_turns_the_lock_into_a_share_lock_and_keeps_what_it_names(rooms):
    in_club, _, _ = rooms
    shared = Compiled(
        lambda room_id: Room.objects.select_for_update(of=("self",)).filter(pk=room_id),
        shared=True,
        room_id=UUIDField(),
    )
    with transaction.atomic():
        assert shared.first(room_id=in_club.pk).pk == in_club.pk
    sql = shared._plan().sql
    if connection.vendor == "postgresql":
        assert sql.endswith(' FOR SHARE OF "rooms_room"')
        assert "FOR UPDATE" not in sql
    else:
        assert " FOR " not in sql  # SQLite has no row locks


def test_percent_signs_and_many_parameters_survive():
    """A LIKE against another column puts literal `%` in the SQL."""
    match = UserFactory(username="night_owl", display_name="owl")
    UserFactory(username="early_bird", display_name="owl")
    names = [f"nobody{n}" for n in range(60)]
    query = Compiled(
        lambda user_id: (
            User.objects.filter(username__contains=F("display_name"))
            .exclude(username__in=names)
            .filter(pk__gte=user_id)
        ),
        user_id=BigIntegerField(),
    )
    assert query.first(user_id=match.pk) == match
    assert query.first(user_id=match.pk + 1000) is None


def test_rows_are_every_row_and_row_the_first(rooms):
    in_club, _, guest = rooms
    hosts = Compiled(
        lambda user_id: (
            Room.objects.exclude(host_id=user_id).order_by("title").values_list("title")
        ),
        user_id=BigIntegerField(),
    )
    assert hosts.rows(user_id=guest.pk) == [("In a club",), ("On its own",)]
    assert hosts.row(user_id=in_club.host_id) == ("On its own",)
    assert hosts.row(user_id=guest.pk) == ("In a club",)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres prepares statements")
@pytest.mark.django_db(transaction=True)
def test_on_postgres_a_query_is_prepared_once_per_connection_and_outlives_a_rollback(rooms):
    in_club, alone, guest = rooms
    query = Compiled(
        lambda room_id, user_id: Room.objects.filter(pk=room_id).exclude(host_id=user_id),
        room_id=UUIDField(),
        user_id=BigIntegerField(),
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


def test_constants_of_every_kind_keep_their_values_in_the_statement():
    """Constant parameters become literals of the prepared statement on Postgres: text with
    quotes and percent signs, times, booleans, NULL."""
    match = UserFactory(username="o'brien%", display_name="Night owl", is_staff=False)
    query = Compiled(
        lambda user_id: User.objects.filter(
            pk=user_id,
            username="o'brien%",
            display_name__startswith="Night",
            is_staff=False,
            date_joined__gt=match.date_joined - timedelta(seconds=1),
            last_login=None,
        ),
        user_id=BigIntegerField(),
    )
    assert query.first(user_id=match.pk) == match
    assert query.first(user_id=UserFactory().pk) is None


def test_fields_that_convert_what_the_database_gives_convert_it(rooms):
    """A JSON field's value is decoded (its `from_db_value`), a file field's is a file."""
    _, alone, _ = rooms
    Replay.objects.create(room=alone, peaks=[0.25, 1.0], chapters=[{"start": 0, "user": 7}])
    replays = Compiled(lambda room_id: Replay.objects.filter(pk=room_id), room_id=UUIDField())
    found = replays.first(room_id=alone.pk)
    assert (found.peaks, found.chapters) == ([0.25, 1.0], [{"start": 0, "user": 7}])
    assert found.audio_ogg.name == ""
    assert found.created == Replay.objects.get(pk=alone.pk).created

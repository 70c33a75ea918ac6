"""Search over people, clubs and rooms: ranking, what stays hidden, the API, the page, query
counts, and on Postgres that each kind is answered from its GIN index."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.api import SearchRateThrottle
from rooms.models import Room, RoomBan
from rooms.search import SEARCHES, search, search_words
from rooms.services.lifecycle import room_create, room_end
from tests.factories import BlockFactory, ClubFactory, FollowFactory, UserFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(db):
    # A name of its own: a random one ("Joanne Smith") matched the searches below.
    return UserFactory(username="viewer", display_name="The Viewer")


def _titles(results) -> list[str]:
    return [room.title for room in results.rooms]


def test_words_are_letters_and_digits_only():
    assert search_words("  Jazz & 'blues':* night! ") == ["jazz", "blues", "night"]


def test_rooms_match_by_title_prefix_and_rank_title_above_description(viewer):
    host = UserFactory(display_name="Quiet Host")
    room_create(host=host, title="Sunday evening", description="Jazz standards and talk")
    room_create(host=host, title="Jazz night")
    room_create(host=host, title="Cooking")
    assert _titles(search(viewer=viewer, text="jaz")) == ["Jazz night", "Sunday evening"]


def test_every_word_must_match(viewer):
    host = UserFactory()
    room_create(host=host, title="Jazz night")
    room_create(host=host, title="Jazz morning")
    assert _titles(search(viewer=viewer, text="jazz night")) == ["Jazz night"]


def test_rooms_match_by_host_and_club(viewer):
    host = UserFactory(username="marguerite", display_name="Marguerite Duras")
    club = ClubFactory(name="Novelists", slug="novelists")
    lead = UserFactory()
    club.memberships.create(user=lead, role="admin", status="active")
    room_create(host=host, title="Reading hour")
    room_create(host=lead, title="Plot workshop", club=club)
    assert _titles(search(viewer=viewer, text="margue")) == ["Reading hour"]
    assert _titles(search(viewer=viewer, text="novel")) == ["Plot workshop"]


def test_only_live_and_upcoming_rooms_are_found(viewer):
    host = UserFactory()
    room_create(host=host, title="Live jazz")
    room_create(host=host, title="Upcoming jazz", scheduled_for=timezone.now() + timedelta(days=1))
    ended = room_create(host=host, title="Ended jazz")
    room_end(actor=host, room_id=ended.pk)
    found = _titles(search(viewer=viewer, text="jazz"))
    assert sorted(found) == ["Live jazz", "Upcoming jazz"]


def test_rooms_the_access_rule_hides_stay_hidden(viewer):
    blocked_host = UserFactory()
    BlockFactory(blocker=blocked_host, blocked=viewer)
    room_create(host=blocked_host, title="Jazz behind a block")
    room_create(host=UserFactory(), title="Jazz closed", visibility=Room.Visibility.CLOSED)
    removed = room_create(host=UserFactory(), title="Jazz removed from")
    RoomBan.objects.create(room=removed, user=viewer)
    room_create(host=UserFactory(), title="Jazz open")
    assert _titles(search(viewer=viewer, text="jazz")) == ["Jazz open"]


def test_people_blocked_either_way_stay_hidden(viewer):
    UserFactory(username="annabel", display_name="Annabel Lee")
    BlockFactory(blocker=viewer, blocked=UserFactory(username="annette"))
    BlockFactory(blocker=UserFactory(username="annika"), blocked=viewer)
    UserFactory(username="anneliese", is_active=False)
    people = search(viewer=viewer, text="ann").people
    assert [person.username for person in people] == ["annabel"]


def test_people_match_display_names_and_say_whom_you_follow(viewer):
    followed = UserFactory(username="lb", display_name="Lena Berg")
    FollowFactory(follower=viewer, followee=followed)
    UserFactory(username="lenny", display_name="Lenny")
    people = search(viewer=viewer, text="len").people
    assert {person.username: person.you_follow for person in people} == {
        "lb": True,
        "lenny": False,
    }


def test_clubs_rank_name_matches_above_description_matches(viewer):
    ClubFactory(name="Garden talk", description="Plants and birds")
    ClubFactory(name="Birdwatchers", description="Early mornings")
    clubs = search(viewer=viewer, text="bird").clubs
    assert [club.name for club in clubs] == ["Birdwatchers", "Garden talk"]


def test_one_kind_alone(viewer):
    UserFactory(username="jazzfan")
    room_create(host=UserFactory(), title="Jazz")
    results = search(viewer=viewer, text="jazz", kind="people")
    assert [person.username for person in results.people] == ["jazzfan"]
    assert results.rooms == []
    assert results.clubs == []


def test_a_query_without_words_finds_nothing(viewer):
    room_create(host=UserFactory(), title="Anything")
    results = search(viewer=viewer, text="&&& !!")
    assert results.people == results.clubs == results.rooms == []


def _touch(results):
    for room in results.rooms:
        _ = (room.host.name, room.club and room.club.name, room.listener_count, room.you_rsvp)
        _ = [m.user.username for m in room.stage_members + room.followed_members]
        _ = [topic.name for topic in room.topics.all()]
    _ = [(person.username, person.you_follow) for person in results.people]
    _ = [(club.name, club.member_count, club.viewer_status) for club in results.clubs]


def test_the_query_count_does_not_grow_with_results(viewer, django_assert_num_queries):
    def add(n):
        for i in range(n):
            host = UserFactory(username=f"echo{i}_{UserFactory().pk}")
            FollowFactory(follower=viewer, followee=host)
            room_create(host=host, title=f"Echo {i}")
            ClubFactory(name=f"Echo club {host.pk}")

    add(1)
    # People, clubs, rooms and the room cards' three prefetches (stage, followed, topics).
    with django_assert_num_queries(6):
        _touch(search(viewer=viewer, text="echo"))
    add(4)
    with django_assert_num_queries(6):
        results = search(viewer=viewer, text="echo")
        _touch(results)
    assert len(results.rooms) == len(results.people) == len(results.clubs) == 5


# --- the API ----------------------------------------------------------------------------


def test_the_api_answers_people_clubs_and_rooms(authed_client):
    UserFactory(username="theo", display_name="Theo")
    ClubFactory(name="Theory club", slug="theory")
    room_create(host=UserFactory(), title="Theodicy", description="Why")
    body = authed_client.get("/api/search/", {"q": "theo"}).json()
    assert [person["username"] for person in body["people"]] == ["theo"]
    assert [club["slug"] for club in body["clubs"]] == ["theory"]
    assert [room["title"] for room in body["rooms"]] == ["Theodicy"]
    assert body["rooms"][0]["url"].startswith("/rooms/")


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": ""}, "q"), ({"q": "x" * 101}, "q"), ({"q": "a", "type": "spaces"}, "type")],
)
def test_the_api_refuses_bad_input(authed_client, params, field):
    response = authed_client.get("/api/search/", params)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_the_api_needs_sign_in(api_client):
    assert api_client.get("/api/search/", {"q": "a"}).status_code == 401


def test_the_api_is_throttled(authed_client, monkeypatch):
    monkeypatch.setattr(SearchRateThrottle, "THROTTLE_RATES", {"search": "3/min"})
    statuses = [authed_client.get("/api/search/", {"q": "a"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert error_of(authed_client.get("/api/search/", {"q": "a"}))["code"] == "throttled"


def test_the_api_is_in_the_schema(authed_client):
    schema = authed_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/search/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "type"}
    assert {"200", "400", "401", "429"} <= set(operation["responses"])


# --- the page ---------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


def test_the_page_lists_results_without_script(signed_in):
    room_create(host=UserFactory(display_name="Host"), title="Jazz night")
    UserFactory(username="jazzfan", display_name="Jazz Fan")
    html = signed_in.get("/search/", {"q": "jazz"}).content.decode()
    assert "Jazz night" in html
    assert "@jazzfan" in html


def test_the_page_says_when_nothing_matches(signed_in):
    response = signed_in.get("/search/", {"q": "zzzz"})
    assert response.status_code == 200
    assert "Nothing matches" in response.content.decode()


def test_the_page_explains_a_query_too_long(signed_in):
    response = signed_in.get("/search/", {"q": "x" * 101})
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


def test_the_page_without_a_query_shows_the_form(signed_in):
    response = signed_in.get("/search/")
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()


def test_the_header_has_the_search_combobox(signed_in):
    html = signed_in.get("/").content.decode()
    assert 'role="combobox"' in html
    assert 'role="listbox"' in html
    assert 'action="/search/"' in html


# --- Postgres: each kind is answered from its index ----------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Full-text indexes exist on Postgres only."
)


@postgres_only
@pytest.mark.parametrize(
    ("kind", "index"),
    [
        ("rooms", "rooms_room_search"),
        ("people", "accounts_user_search"),
        ("clubs", "follows_club_search"),
    ],
)
def test_postgres_uses_the_search_indexes(viewer, kind, index):
    with CaptureQueriesContext(connection) as context:
        SEARCHES[kind](viewer=viewer, words=["jazz"], limit=5)
    query = next(q["sql"] for q in context.captured_queries if "to_tsquery" in q["sql"])
    with connection.cursor() as cursor:
        # On a table this small a scan is cheaper; the question is whether the index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan

"""Topics and language on rooms: chosen at creation (page and API), shown on cards, and the
hallway's filters (page, its polled fragment and the API)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from rooms.languages import language_from_accept
from rooms.models import Room, Topic
from rooms.selectors import hallway
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db


def topic(slug: str) -> Topic:
    """A curated topic (the migration seeds them; transactional tests flush them)."""
    return Topic.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


@pytest.fixture
def music():
    return topic("music")


@pytest.fixture
def sports():
    return topic("sports")


def test_the_migration_seeds_the_curated_topics():
    assert {"music", "technology", "sports"} <= set(Topic.objects.values_list("slug", flat=True))


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt"),
        ("xx-YY, de;q=0.5", "de"),
        ("tlh", "en"),
        ("", "en"),
    ],
)
def test_the_default_language_comes_from_accept_language(header, language):
    assert language_from_accept(header) == language


def test_a_room_carries_up_to_three_topics(music, sports):
    host = UserFactory()
    room = room_create(host=host, title="Mix", topics=[music, sports], language="fr")
    assert set(room.topics.all()) == {music, sports}
    assert room.language == "fr"
    with pytest.raises(ApplicationError, match="at most 3 topics"):
        room_create(
            host=host, title="Too many", topics=[music, sports, topic("books"), topic("news")]
        )
    assert not Room.objects.filter(title="Too many").exists()


def test_the_hallway_filters_by_topic_and_language(music, sports):
    viewer = UserFactory()
    host = UserFactory()
    room_create(host=host, title="French music", topics=[music], language="fr")
    room_create(host=host, title="English music", topics=[music])
    room_create(host=host, title="Sports", topics=[sports])
    room_create(
        host=host, title="Music later", topics=[music], scheduled_for=timezone.now() + timedelta(1)
    )

    def titles(**filters):
        rooms = hallway(viewer=viewer, **filters)
        return sorted(room.title for room in rooms["live"] + rooms["upcoming"])

    assert titles(topic=music) == ["English music", "French music", "Music later"]
    assert titles(topic=music, language="fr") == ["French music"]
    assert titles(language="en") == ["English music", "Music later", "Sports"]


def test_upcoming_rooms_come_in_time_order_whoever_hosts_them():
    viewer = UserFactory()
    followed, stranger = UserFactory(), UserFactory()
    viewer.following_set.create(followee=followed)
    now = timezone.now()
    room_create(host=followed, title="Later", scheduled_for=now + timedelta(hours=3))
    room_create(host=stranger, title="Sooner", scheduled_for=now + timedelta(hours=1))
    assert [room.title for room in hallway(viewer=viewer)["upcoming"]] == ["Sooner", "Later"]


# --- pages ------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_room_form_takes_topics_and_language(signed_in, user, music, sports):
    response = signed_in.post(
        "/rooms/new/",
        {
            "title": "Talk",
            "visibility": "open",
            "start": "now",
            "topics": ["music", "sports"],
            "language": "es",
        },
    )
    room = Room.objects.get(title="Talk")
    assert response.status_code == 302
    assert set(room.topics.values_list("slug", flat=True)) == {"music", "sports"}
    assert room.language == "es"


def test_the_room_form_refuses_four_topics(signed_in, music, sports):
    slugs = [music.slug, sports.slug, topic("books").slug, topic("news").slug]
    response = signed_in.post(
        "/rooms/new/", {"title": "Talk", "visibility": "open", "start": "now", "topics": slugs}
    )
    assert response.status_code == 400
    assert "Pick at most 3 topics." in response.content.decode()


def test_the_room_form_defaults_to_the_browsers_language(signed_in):
    html = signed_in.get("/rooms/new/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9").content.decode()
    assert '<option value="de" selected>German</option>' in html
    signed_in.post(
        "/rooms/new/",
        {"title": "Plain", "visibility": "open", "start": "now"},
        HTTP_ACCEPT_LANGUAGE="it",
    )
    assert Room.objects.get(title="Plain").language == "it"


def test_cards_show_topics_and_language(signed_in, music):
    room_create(host=UserFactory(), title="Jam", topics=[music], language="sv")
    html = signed_in.get("/").content.decode()
    assert 'href="/?topic=music"' in html
    assert "Language: Swedish" in html


def test_the_hallway_page_filters_without_script(signed_in, music, sports):
    room_create(host=UserFactory(), title="Jam session", topics=[music])
    room_create(host=UserFactory(), title="Match talk", topics=[sports])
    html = signed_in.get("/", {"topic": "music"}).content.decode()
    assert "Jam session" in html
    assert "Match talk" not in html
    assert 'href="?topic=music" aria-current="true"' in html
    # The polled fragment keeps the filters.
    assert 'data-hallway-rooms="/hallway/rooms/?topic=music"' in html
    fragment = signed_in.get("/hallway/rooms/", {"topic": "music"}).content.decode()
    assert "Jam session" in fragment
    assert "Match talk" not in fragment


def test_the_hallway_page_explains_an_unknown_filter(signed_in):
    room_create(host=UserFactory(), title="Anything")
    response = signed_in.get("/", {"topic": "knitting", "language": "xx"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Anything" in html
    assert "Select a valid choice" in html


# --- API --------------------------------------------------------------------------------


def test_the_api_creates_rooms_with_topics_and_language(authed_client, music):
    response = authed_client.post(
        "/api/rooms/",
        {"title": "Api", "topics": ["music"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["topics"] == [{"slug": "music", "name": music.name}]
    assert body["language"] == "ja"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"topics": ["music", "a", "b", "c"]}, 400),
        ({"language": "xx"}, 400),
        ({"topics": ["no-such-topic"]}, 404),
    ],
)
def test_the_api_refuses_bad_topics_and_languages(authed_client, music, body, status):
    response = authed_client.post("/api/rooms/", {"title": "Api", **body}, format="json")
    assert response.status_code == status
    error_of(response)
    assert not Room.objects.exists()


def test_the_hallway_api_filters(authed_client, music, sports):
    room_create(host=UserFactory(), title="Jam", topics=[music], language="fr")
    room_create(host=UserFactory(), title="Match", topics=[sports])
    body = authed_client.get("/api/hallway/", {"topic": "music", "language": "fr"}).json()
    assert [room["title"] for room in body["live"]] == ["Jam"]
    assert authed_client.get("/api/hallway/", {"language": "zz"}).status_code == 400
    assert authed_client.get("/api/hallway/", {"topic": "nope"}).status_code == 404
    # An empty value is no filter the schema allows: it is refused, not ignored.
    assert authed_client.get("/api/hallway/?topic=").status_code == 400


def test_the_api_lists_topics(authed_client, music):
    slugs = [t["slug"] for t in authed_client.get("/api/topics/").json()["results"]]
    assert "music" in slugs
    assert slugs == sorted(slugs, key=lambda s: Topic.objects.get(slug=s).name)

"""Search over people, clubs and rooms, for the header's type-ahead, the results page and
the API.

On Postgres it is full-text search (the `simple` configuration: names and titles in any
language, no stemming) with every word of the query matched as a prefix, so results come
while a word is still being typed; each of the three is backed by a GIN index over the
same expression (the migrations `accounts.0006`, `follows.0004`, `rooms.0007`). Elsewhere
(SQLite) every word must appear somewhere in the fields, as a substring.

What a person may not see stays out: people blocked either way (as the follow graph hides
them), and rooms outside the access rule (rooms.access, through `rooms_visible_to`). Each
kind of result is one query, plus the room cards' prefetches: the count does not grow with
the results.
"""

import re
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Expression, F, FloatField, Q, QuerySet, Value, When

from accounts.models import User
from follows.models import Club
from follows.selectors import club_list, people_visible_to
from rooms.models import Room
from rooms.selectors import current_rooms, room_list_annotated, rooms_visible_to

QUERY_MAX_LENGTH = 100
# Results of each kind: in the type-ahead and the page's overview, and for one kind alone.
LIMIT_ALL = 5
LIMIT_ONE = 20
KINDS = ("people", "clubs", "rooms")
# Words beyond this many are ignored: each one is a condition on every row.
WORDS_MAX = 8
_CONFIG = "simple"

PERSON_VECTOR = SearchVector("username", "display_name", config=_CONFIG)
CLUB_VECTOR = SearchVector("name", weight="A", config=_CONFIG) + SearchVector(
    "description", weight="B", config=_CONFIG
)
ROOM_VECTOR = SearchVector("title", weight="A", config=_CONFIG) + SearchVector(
    "description", weight="B", config=_CONFIG
)


@dataclass
class SearchResults:
    people: list[User] = field(default_factory=list)
    clubs: list[Club] = field(default_factory=list)
    rooms: list[Room] = field(default_factory=list)


def search_words(text: str) -> list[str]:
    """The words of a query: runs of letters, digits and underscores, lowercased."""
    return re.findall(r"\w+", text.lower())[:WORDS_MAX]


def _full_text() -> bool:
    return connection.vendor == "postgresql"


def _prefix_query(words: list[str]) -> SearchQuery:
    """Every word, as a prefix ("jaz" finds "jazz"). The words hold only \\w characters,
    so quoting them is enough to keep tsquery syntax out."""
    raw = " & ".join(f"'{word}':*" for word in words)
    return SearchQuery(raw, search_type="raw", config=_CONFIG)


def _substring_match(words: list[str], fields: tuple[str, ...]) -> Q:
    """Every word in one of `fields` (the fallback without full-text search)."""
    return reduce(
        and_,
        (reduce(or_, (Q(**{f"{name}__icontains": word}) for name in fields)) for word in words),
    )


def _substring_rank(words: list[str], title: str) -> Case:
    """The fallback's ranking: the title starting with the first word, then holding it."""
    return Case(
        When(**{f"{title}__istartswith": words[0]}, then=Value(2.0)),
        When(**{f"{title}__icontains": words[0]}, then=Value(1.0)),
        default=Value(0.0),
        output_field=FloatField(),
    )


def _ranked(
    queryset: QuerySet, words: list[str], vector: Expression, fields: tuple[str, ...]
) -> QuerySet:
    """`queryset` narrowed to matches and annotated with `rank`."""
    if _full_text():
        query = _prefix_query(words)
        return (
            queryset.annotate(search=vector)
            .filter(search=query)
            .annotate(rank=SearchRank(F("search"), query))
        )
    return queryset.filter(_substring_match(words, fields)).annotate(
        rank=_substring_rank(words, fields[0])
    )


def people_search(*, viewer: User, words: list[str], limit: int) -> list[User]:
    people = _ranked(people_visible_to(viewer), words, PERSON_VECTOR, ("username", "display_name"))
    return list(people.order_by("-rank", "username")[:limit])


def clubs_search(*, viewer: User, words: list[str], limit: int) -> list[Club]:
    clubs = _ranked(club_list(viewer=viewer), words, CLUB_VECTOR, ("name", "description"))
    return list(clubs.order_by("-rank", "-member_count", "name")[:limit])


def rooms_search(*, viewer: User, words: list[str], limit: int) -> list[Room]:
    """Live and upcoming rooms the viewer may see whose title or description matches, or
    whose host or club does (ranked below a title match)."""
    rooms = rooms_visible_to(viewer).filter(current_rooms())
    if _full_text():
        query = _prefix_query(words)
        # Three matches, each answered by its own index, then united: an OR in one WHERE
        # would make Postgres read every room.
        hosts = User.objects.annotate(search=PERSON_VECTOR).filter(search=query)
        clubs = Club.objects.annotate(search=CLUB_VECTOR).filter(search=query)
        matches = (
            Room.objects.annotate(search=ROOM_VECTOR)
            .filter(search=query)
            .values("pk")
            .union(
                Room.objects.filter(host__in=hosts.values("pk")).values("pk"),
                Room.objects.filter(club__in=clubs.values("pk")).values("pk"),
            )
        )
        rooms = rooms.filter(pk__in=matches).annotate(rank=SearchRank(ROOM_VECTOR, query))
    else:
        fields = ("title", "description", "host__username", "host__display_name", "club__name")
        rooms = rooms.filter(_substring_match(words, fields)).annotate(
            rank=_substring_rank(words, "title")
        )
    live_first = Case(When(status=Room.Status.LIVE, then=Value(0)), default=Value(1))
    ordered = room_list_annotated(rooms, viewer).order_by(
        "-rank", live_first, "scheduled_for", "-started_at", "pk"
    )
    return list(ordered[:limit])


SEARCHES = {"people": people_search, "clubs": clubs_search, "rooms": rooms_search}


def search(*, viewer: User, text: str, kind: str | None = None) -> SearchResults:
    """People, clubs and rooms matching `text` (only `kind` when given), best first."""
    words = search_words(text)
    results = SearchResults()
    if not words:
        return results
    limit = LIMIT_ALL if kind is None else LIMIT_ONE
    for name in (kind,) if kind else KINDS:
        setattr(results, name, SEARCHES[name](viewer=viewer, words=words, limit=limit))
    return results

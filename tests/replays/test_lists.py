"""Replays on the host's and speakers' profiles and on the club's page, as the room's access
rule allows, in a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from replays.models import Replay
from replays.selectors import replays_ready
from rooms.models import Room
from tests.factories import ClubFactory, UserFactory

pytestmark = pytest.mark.django_db


def _replay(host, *, speakers=(), club=None, visibility=Room.Visibility.OPEN, **fields) -> Replay:
    ended = timezone.now() - timedelta(hours=1)
    room = Room.objects.create(
        host=host,
        title=fields.pop("title", "Taped"),
        speaker_cap=5,
        club=club,
        visibility=visibility,
        status=Room.Status.ENDED,
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
    )
    replay = Replay.objects.create(
        room=room, status=fields.pop("status", Replay.Status.READY), duration=125.0, **fields
    )
    replay.speakers.set(speakers)
    return replay


def test_a_replay_shows_for_its_host_and_its_speakers_and_not_for_others():
    host, speaker, other = UserFactory(), UserFactory(), UserFactory()
    replay = _replay(host, speakers=[host, speaker])
    _replay(UserFactory(), status=Replay.Status.PROCESSING)
    for person, expected in ((host, [replay]), (speaker, [replay]), (other, [])):
        assert replays_ready(viewer=other, person=person) == expected


def test_a_closed_rooms_replay_stays_with_the_people_let_into_it():
    host, outsider = UserFactory(), UserFactory()
    replay = _replay(host, visibility=Room.Visibility.CLOSED)
    assert replays_ready(viewer=host, person=host) == [replay]
    assert replays_ready(viewer=outsider, person=host) == []
    assert replays_ready(viewer=None, person=host) == []


def test_the_profile_and_the_club_page_list_replays_in_the_same_queries_however_many(client):
    host, viewer = UserFactory(username="hosty"), UserFactory()
    club = ClubFactory(slug="owls")
    client.force_login(viewer)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url)
        assert page.status_code == 200
        return len(captured)

    first = _replay(host, club=club, title="First tape")
    one_profile, one_club = queries("/u/hosty/"), queries("/clubs/owls/")
    for n in range(3):
        _replay(host, club=club, speakers=[host], title=f"Tape {n}")
    page = client.get("/u/hosty/").content.decode()
    assert "First tape" in page
    assert "2:05" in page
    assert f"/rooms/{first.room_id}/replay/" in page
    assert "Tape 2" in client.get("/clubs/owls/").content.decode()
    assert (queries("/u/hosty/"), queries("/clubs/owls/")) == (one_profile, one_club)

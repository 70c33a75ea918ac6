"""Staff search what was said in replays, in admin: read-only, each line a link to its moment."""

import pytest

from replays.models import Replay, Transcript, TranscriptSegment
from tests.factories import UserFactory, make_moderator
from tests.replays.factories import recorded_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def mod_client(client):
    client.force_login(make_moderator(username="mod"))
    return client


def test_moderators_search_transcripts_and_open_the_moment(mod_client):
    host = UserFactory(username="hana")
    room = recorded_room(host, title="Open mic")
    replay = Replay.objects.create(room=room, status=Replay.Status.READY)
    transcript = Transcript.objects.create(replay=replay, status=Transcript.Status.READY)
    said = TranscriptSegment.objects.create(
        transcript=transcript, start=65.4, end=68.0, text="Buy my miracle pills now.", user=host
    )
    TranscriptSegment.objects.create(
        transcript=transcript, start=70.0, end=72.0, text="Anyway, about jazz.", user=host
    )
    page = mod_client.get("/admin/replays/transcriptsegment/", {"q": "miracle"}).content.decode()
    assert "Buy my miracle pills now." in page
    assert "about jazz" not in page
    assert f'href="/rooms/{room.pk}/replay/?t=65"' in page
    assert ">1:05</a>" in page
    assert "Open mic" in page
    change = f"/admin/replays/transcriptsegment/{said.pk}/change/"
    assert mod_client.get(change).status_code == 200
    assert mod_client.post(change, {"text": "edited"}).status_code == 403
    assert mod_client.post(f"/admin/replays/transcriptsegment/{said.pk}/delete/").status_code == 403
    said.refresh_from_db()
    assert said.text == "Buy my miracle pills now."

"""The audience batcher: how often a room's audience changes go out."""

import pytest
from channels.db import database_sync_to_async

from rooms.batching import AudienceBatcher
from rooms.models import RoomMember
from rooms.services.lifecycle import room_end
from tests.factories import UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_pages(settings):
    settings.ROOM_SNAPSHOT_AUDIENCE_PAGE = 2
    settings.ROOM_AUDIENCE_BATCH_SECONDS = 0.01
    settings.ROOM_AUDIENCE_BATCH_SECONDS_BIG = 0.03


@database_sync_to_async
def _listeners(room, n):
    return [member(room, UserFactory(), channel=f"test!{i}").user_id for i in range(n)]


async def test_a_room_past_its_first_page_of_audience_is_batched_less_often(
    live_room, small_pages, settings
):
    room_id, batcher = str(live_room.pk), AudienceBatcher()
    assert batcher.interval(room_id) == settings.ROOM_AUDIENCE_BATCH_SECONDS

    ids = await _listeners(live_room, 3)
    flush = batcher.touched(room_id, ids[0])
    assert batcher.touched(room_id, ids[1]) is None  # the same batch
    await flush
    assert batcher.interval(room_id) == settings.ROOM_AUDIENCE_BATCH_SECONDS_BIG

    # Back within its first page, it is batched as often as before.
    await RoomMember.objects.filter(user_id__in=ids[1:]).adelete()
    await batcher.touched(room_id, ids[1])
    assert batcher.interval(room_id) == settings.ROOM_AUDIENCE_BATCH_SECONDS


async def test_a_room_that_ended_is_forgotten(live_room, host, small_pages):
    room_id, batcher = str(live_room.pk), AudienceBatcher()
    ids = await _listeners(live_room, 3)
    await batcher.touched(room_id, ids[0])
    assert room_id in batcher.big
    await database_sync_to_async(room_end)(actor=host, room_id=live_room.pk)
    await batcher.touched(room_id, ids[1])
    assert room_id not in batcher.big

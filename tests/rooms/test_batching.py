"""The audience batcher: how often a room's audience changes go out."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms.batching import AudienceBatcher
from rooms.models import RoomMember
from rooms.services import presence
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


def test_server_processes_take_turns_one_batch_a_window(live_room, redis_cache, listen, settings):
    """Two processes each saw someone come in while a third had just sent the room's batch:
    both wait for the window to end, and one batch brings both."""
    settings.ROOM_AUDIENCE_BATCH_SECONDS = 0.01
    room_id, events = str(live_room.pk), listen(live_room.group_name)
    ids = [member(live_room, UserFactory(), channel=f"test!{i}").user_id for i in range(3)]
    third = presence.audience_turn(room_id=room_id, user_ids=[ids[2]], seconds=1)
    assert third.taken

    async def two_processes():
        one, other = AudienceBatcher(), AudienceBatcher()
        await asyncio.gather(one.touched(room_id, ids[0]), other.touched(room_id, ids[1]))

    asyncio.run(two_processes())
    batches = events.frames()
    assert [b["type"] for b in batches] == ["members.batch", "members.batch"]
    assert [m["user"]["id"] for m in batches[0]["joined"]] == [ids[2]]
    assert sorted(m["user"]["id"] for m in batches[1]["joined"]) == sorted(ids[:2])
    assert batches[1]["audience_count"] == 3


def test_a_stopping_process_writes_out_its_batches_at_once(live_room, listen, settings):
    """`write_out` (the process stops): the room's batch goes out now, not after its
    interval, and the flush that was scheduled for it sends nothing more."""
    settings.ROOM_AUDIENCE_BATCH_SECONDS = 60
    room_id, events = str(live_room.pk), listen(live_room.group_name)
    ids = [member(live_room, UserFactory(), channel=f"test!{i}").user_id for i in range(2)]

    async def stopping():
        batcher = AudienceBatcher()
        flush = batcher.touched(room_id, ids[0])
        batcher.touched(room_id, ids[1])
        await batcher.write_out()
        await asyncio.sleep(0)
        return flush, batcher

    flush, batcher = asyncio.run(stopping())
    assert flush.cancelled()
    assert (batcher.pending, batcher.flushes) == ({}, {})
    batches = events.frames()
    assert [b["type"] for b in batches] == ["members.batch"]
    assert sorted(m["user"]["id"] for m in batches[0]["joined"]) == sorted(ids)

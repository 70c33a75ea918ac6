"""The notification socket, through the real routing and consumer."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from follows.services import follow_create
from notifications.models import Connection, Notification
from notifications.routing import websocket_urlpatterns
from notifications.services import notifications_mark_read
from rooms.models import Room
from rooms.services.lifecycle import room_cancel, room_create, room_end, room_update
from tests.factories import FollowFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]
ROUTER = URLRouter(websocket_urlpatterns)


class Inbox:
    def __init__(self, user):
        self.comm = WebsocketCommunicator(ROUTER, "/ws/notifications/")
        self.comm.scope["user"] = user or AnonymousUser()

    async def open(self) -> dict:
        connected, _ = await self.comm.connect(timeout=5)
        assert connected
        return await self.recv()

    async def recv(self, wait: float = 5) -> dict:
        output = await self.comm.receive_output(wait)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def send(self, text: str) -> None:
        await self.comm.send_to(text_data=text)

    async def close_code(self, wait: float = 5) -> int:
        while True:
            output = await self.comm.receive_output(wait)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)

    async def quiet(self) -> bool:
        return await self.comm.receive_nothing(timeout=0.3)

    async def close(self) -> None:
        await self.comm.disconnect()


@pytest.fixture
def person(db):
    return UserFactory(username="listener")


async def test_signed_out_sockets_are_closed_with_4401():
    inbox = Inbox(None)
    frame = await inbox.open()
    assert frame["type"] == "error"
    assert frame["code"] == "not_authenticated"
    assert await inbox.close_code() == 4401


async def test_the_first_frame_is_the_unread_count(person):
    await database_sync_to_async(lambda: follow_create(follower=UserFactory(), followee=person))()
    inbox = Inbox(person)
    assert await inbox.open() == {"type": "unread.count", "count": 1}
    assert await Connection.objects.filter(user=person).acount() == 1
    await inbox.close()
    assert await Connection.objects.filter(user=person).acount() == 0


async def test_a_new_notification_arrives_live_then_the_count(person):
    inbox = Inbox(person)
    await inbox.open()
    fan = await database_sync_to_async(UserFactory)()
    await database_sync_to_async(follow_create)(follower=fan, followee=person)
    created = await inbox.recv()
    assert created["type"] == "notification.created"
    assert created["notification"]["kind"] == "new_follower"
    assert created["notification"]["actor"]["username"] == fan.username
    assert created["notification"]["url"] == f"/u/{fan.username}/"
    assert await inbox.recv() == {"type": "unread.count", "count": 1}
    await inbox.close()


async def test_a_room_start_reaches_a_followers_socket_through_the_fan_out(person):
    host = await database_sync_to_async(UserFactory)(display_name="Maya")
    await database_sync_to_async(FollowFactory)(follower=person, followee=host)
    inbox = Inbox(person)
    await inbox.open()
    room = await database_sync_to_async(room_create)(host=host, title="Late jazz")
    created = await inbox.recv()
    assert created["notification"]["kind"] == "room_started"
    assert created["notification"]["text"] == "Maya started “Late jazz”"
    assert created["notification"]["room"]["url"] == f"/rooms/{room.pk}/"
    assert await inbox.recv() == {"type": "unread.count", "count": 1}
    await inbox.close()


async def test_a_watching_hallway_hears_an_open_room_start_and_end_at_once(person):
    host = await database_sync_to_async(UserFactory)()
    hallway, elsewhere = Inbox(person), Inbox(await database_sync_to_async(UserFactory)())
    await hallway.open()
    await elsewhere.open()
    await hallway.send('{"type": "hallway.watch"}')
    await hallway.send('{"type": "hallway.watch"}')  # twice is once
    assert await hallway.quiet()
    room = await database_sync_to_async(room_create)(host=host, title="Open jazz")
    assert await hallway.recv() == {"type": "hallway.changed"}
    await database_sync_to_async(room_end)(actor=host, room_id=room.pk)
    assert await hallway.recv() == {"type": "hallway.changed"}
    assert await hallway.quiet()
    # A page that is not the hallway asked for nothing and hears nothing.
    assert await elsewhere.quiet()
    await hallway.close()
    await elsewhere.close()


async def test_a_watching_hallway_hears_of_upcoming_rooms_scheduled_edited_and_cancelled(
    person,
):
    host = await database_sync_to_async(UserFactory)()
    hallway = Inbox(person)
    await hallway.open()
    await hallway.send('{"type": "hallway.watch"}')
    assert await hallway.quiet()
    later = timezone.now() + timedelta(days=1)
    room = await database_sync_to_async(room_create)(
        host=host, title="Jazz tomorrow", scheduled_for=later
    )
    assert await hallway.recv() == {"type": "hallway.changed"}
    await database_sync_to_async(room_update)(actor=host, room_id=room.pk, title="Jazz, later")
    assert await hallway.recv() == {"type": "hallway.changed"}
    # An edit that changes nothing is no news.
    await database_sync_to_async(room_update)(actor=host, room_id=room.pk, title="Jazz, later")
    assert await hallway.quiet()
    await database_sync_to_async(room_cancel)(actor=host, room_id=room.pk)
    assert await hallway.recv() == {"type": "hallway.changed"}
    assert await hallway.quiet()
    await hallway.close()


async def test_a_room_that_is_not_open_is_not_announced_to_the_hallway(person):
    host = await database_sync_to_async(UserFactory)()
    hallway = Inbox(person)
    await hallway.open()
    await hallway.send('{"type": "hallway.watch"}')
    await database_sync_to_async(room_create)(
        host=host, title="Closed jazz", visibility=Room.Visibility.CLOSED
    )
    await database_sync_to_async(room_create)(
        host=host, title="Social jazz", visibility=Room.Visibility.SOCIAL
    )
    # Those let in who follow the host hear it through their notification instead.
    assert await hallway.quiet()
    await hallway.close()


async def test_reading_elsewhere_updates_the_count(person):
    await database_sync_to_async(lambda: follow_create(follower=UserFactory(), followee=person))()
    inbox = Inbox(person)
    assert (await inbox.open())["count"] == 1
    await database_sync_to_async(notifications_mark_read)(user=person, everything=True)
    assert await inbox.recv() == {"type": "unread.count", "count": 0}
    await inbox.close()


async def test_staff_disconnect_closes_with_the_given_code_and_reason(person):
    inbox = Inbox(person)
    await inbox.open()
    await get_channel_layer().group_send(
        f"user.{person.pk}",
        {"type": "user.disconnect", "code": 4403, "reason": "Your account is suspended."},
    )
    frame = await inbox.recv()
    assert frame == {
        "type": "error",
        "code": "disconnected",
        "message": "Your account is suspended.",
    }
    assert await inbox.close_code() == 4403


async def test_ping_is_answered(person):
    inbox = Inbox(person)
    await inbox.open()
    await inbox.send('{"type": "ping"}')
    assert await inbox.recv() == {"type": "pong"}
    await inbox.close()


@pytest.mark.parametrize(
    ("text", "code"),
    [("not json", "malformed"), ("[1, 2]", "malformed"), ('{"type": "read.all"}', "unknown_type")],
)
async def test_bad_frames_get_an_error_and_the_socket_stays(person, text, code):
    inbox = Inbox(person)
    await inbox.open()
    await inbox.send(text)
    frame = await inbox.recv()
    assert (frame["type"], frame["code"]) == ("error", code)
    await inbox.send('{"type": "ping"}')
    assert await inbox.recv() == {"type": "pong"}
    await inbox.close()


async def test_a_flood_closes_the_socket_with_4429(person):
    inbox = Inbox(person)
    await inbox.open()
    for _ in range(30):
        await inbox.send('{"type": "ping"}')
    assert await inbox.close_code() == 4429


async def test_a_frame_too_large_closes_with_4413(person):
    inbox = Inbox(person)
    await inbox.open()
    await inbox.send(json.dumps({"type": "ping", "pad": "x" * 10_000}))
    assert await inbox.close_code() == 4413


async def test_nothing_arrives_for_other_peoples_notifications(person):
    inbox = Inbox(person)
    await inbox.open()
    other = await database_sync_to_async(UserFactory)()
    await database_sync_to_async(lambda: follow_create(follower=UserFactory(), followee=other))()
    assert await inbox.quiet()
    assert await Notification.objects.acount() == 1
    await inbox.close()

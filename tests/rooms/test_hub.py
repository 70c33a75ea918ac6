"""A room's events reach a server process once (its hub) and each member from there, in
order, with chat messages held a moment and written together."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from realtime.channel_layers import PubSubChannelLayer
from rooms.hub import RoomHubs
from tests.factories import UserFactory
from tests.rooms.sockets import Socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


async def test_a_process_is_in_the_room_group_once_whatever_its_members(live_room, host):
    sockets = [Socket(host, live_room.pk)] + [Socket(await _user(), live_room.pk) for _ in range(3)]
    for socket in sockets:
        await socket.open()
    hub = RoomHubs.current().hubs[live_room.group_name]
    assert len(hub.members) == 4
    assert _in_group(live_room.group_name) == {hub.channel}
    await sockets[1].send("hand.raise")
    for socket in sockets:
        frame = await socket.next_of("member.updated")
        assert frame["member"]["hand_raised"] is True
    for socket in sockets:
        await socket.close()
    assert live_room.group_name not in RoomHubs.current().hubs


async def test_chat_is_held_together_but_never_after_what_followed_it(live_room, host, settings):
    settings.ROOM_CHAT_COALESCE_SECONDS = 30  # held until something else comes
    host_socket = Socket(host, live_room.pk)
    await host_socket.open()
    listener = Socket(await _user(), live_room.pk)
    await listener.open()
    await listener.next_of("members.batch")  # the batch announcing them, out of the way
    await host_socket.send("chat.send", text="first")
    await host_socket.send("chat.send", text="second")
    assert await listener.quiet()  # held
    await host_socket.send("mute.set", muted=False)  # any numbered event will do
    kinds = await listener.types_until_quiet()
    assert kinds[:3] == ["chat.message", "chat.message", "member.updated"]
    await listener.close()
    await host_socket.close()


async def test_without_holding_chat_goes_out_at_once(live_room, host, settings):
    settings.ROOM_CHAT_COALESCE_SECONDS = 0
    host_socket = Socket(host, live_room.pk)
    await host_socket.open()
    await host_socket.send("chat.send", text="now")
    assert (await host_socket.next_of("chat.message"))["message"]["text"] == "now"
    await host_socket.close()


def _in_group(group: str) -> set[str]:
    """The channels of this process in `group`, as its channel layer lists them."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return set(layer.groups.get(group, {}))
    if isinstance(layer, PubSubChannelLayer):
        here = layer._get_layer()
        return set(here.groups.get(here._get_group_channel_name(group), ()))
    pytest.skip("the list layer keeps its groups in Redis only")


async def _user():
    return await database_sync_to_async(UserFactory)()

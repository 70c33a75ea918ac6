"""The chat on the room socket, through a real server process: frames both ways, the
moderators' actions reaching everyone, blocks, and the chat's own rate budget."""

import pytest

from rooms.services.lifecycle import room_create
from tests.factories import BlockFactory, UserFactory
from tests.support.live import LiveSocket, crashes_in, room_path, session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def people(db):
    host = UserFactory(username="chat_host")
    listener = UserFactory(username="chat_listener")
    room = room_create(host=host, title="Chatting")
    return host, listener, room, session_cookie(host), session_cookie(listener)


async def test_a_conversation_moderated_live(server, people):
    host_user, listener_user, room, host_cookie, listener_cookie = people
    async with (
        LiveSocket(server, room_path(room), host_cookie) as host,
        LiveSocket(server, room_path(room), listener_cookie) as listener,
    ):
        await listener.send("chat.more")
        empty = await listener.next_of("chat.page")
        assert empty == {"type": "chat.page", "messages": [], "has_more": False, "muted": []}

        await listener.send("chat.send", text="Hello @chat_host <b>!</b>")
        sent = (await host.next_of("chat.message"))["message"]
        assert (await listener.next_of("chat.message"))["message"] == sent
        assert sent["text"] == "Hello @chat_host <b>!</b>"
        assert sent["mentions"] == [host_user.pk]
        assert sent["user"]["username"] == "chat_listener"

        await host.send("chat.send", text="Welcome", reply_to=sent["id"])
        reply = (await listener.next_of("chat.message"))["message"]
        assert reply["reply_to"]["id"] == sent["id"]

        await host.send("chat.delete", id=sent["id"])
        assert await listener.next_of("chat.deleted") == {"type": "chat.deleted", "id": sent["id"]}

        await host.send("chat.mute", user_id=listener_user.pk)
        muted = await listener.next_of("chat.muted")
        assert (muted["user_id"], muted["muted"]) == (listener_user.pk, True)
        await listener.send("chat.send", text="Let me speak", ref=7)
        error = await listener.next_of("error")
        assert (error["code"], error["ref"]) == ("chat_muted", 7)
        assert await listener.still_open()

        await host.send("chat.settings", mode="stage", slow_seconds=5)
        updated = await listener.next_of("room.updated")
        assert updated["chat"] == {"mode": "stage", "slow_seconds": 5}
        assert updated["seq"] > listener.first["seq"]

        await listener.send("chat.more")
        page = await listener.next_of("chat.page")
        assert [m["text"] for m in page["messages"]] == ["Welcome"]
        assert page["muted"] == [listener_user.pk]
    assert not crashes_in(server.output()), server.output()


async def test_listeners_cannot_moderate_the_chat(server, people):
    _, _, room, host_cookie, listener_cookie = people
    async with (
        LiveSocket(server, room_path(room), host_cookie) as host,
        LiveSocket(server, room_path(room), listener_cookie) as listener,
    ):
        await host.send("chat.send", text="Mine")
        message = (await listener.next_of("chat.message"))["message"]
        await listener.send("chat.delete", id=message["id"])
        assert (await listener.next_of("error"))["code"] == "forbidden"
        await listener.send("chat.settings", mode="off", slow_seconds=0)
        assert (await listener.next_of("error"))["code"] == "forbidden"


@pytest.fixture
def blocker_cookie(people):
    blocker = UserFactory(username="chat_blocker")
    BlockFactory(blocker=blocker, blocked=people[1])
    return session_cookie(blocker)


async def test_messages_of_blocked_people_do_not_reach_the_blocker(server, people, blocker_cookie):
    _, _, room, host_cookie, listener_cookie = people
    async with (
        LiveSocket(server, room_path(room), host_cookie) as host,
        LiveSocket(server, room_path(room), listener_cookie) as listener,
        LiveSocket(server, room_path(room), blocker_cookie) as reader,
    ):
        await listener.send("chat.send", text="From the blocked")
        blocked = (await host.next_of("chat.message"))["message"]
        await host.send("chat.send", text="From the host", reply_to=blocked["id"])
        # Nor are their words quoted in a reply: the reply reaches the blocker on its own.
        reply = (await host.next_of("chat.message"))["message"]
        assert reply["reply_to"]["text"] == "From the blocked"
        first = (await reader.next_of("chat.message"))["message"]
        assert (first["text"], first["reply_to"]) == ("From the host", None)
        await reader.send("chat.more")
        page = await reader.next_of("chat.page")
        assert [(m["text"], m["reply_to"]) for m in page["messages"]] == [("From the host", None)]


async def test_bad_chat_frames_get_clear_errors(server, people):
    _, _, room, _, listener_cookie = people
    async with LiveSocket(server, room_path(room), listener_cookie) as listener:
        for fields, code in [
            ({}, "invalid"),
            ({"text": 5}, "invalid"),
            ({"text": "   "}, "empty"),
            ({"text": "x" * 501}, "too_long"),
            ({"text": "hi", "reply_to": "one"}, "invalid"),
        ]:
            await listener.send("chat.send", **fields)
            assert (await listener.next_of("error"))["code"] == code, fields
        await listener.send("chat.more", before=-1)
        assert (await listener.next_of("error"))["code"] == "invalid"
        await listener.send("chat.shout")
        assert (await listener.next_of("error"))["code"] == "unknown_type"


async def test_the_chat_has_its_own_rate_budget(server, people):
    _, listener_user, room, host_cookie, listener_cookie = people
    async with (
        LiveSocket(server, room_path(room), host_cookie) as host,
        LiveSocket(server, room_path(room), listener_cookie) as listener,
    ):
        # A burst of eight, refilled at one a second, then a warning (a second one would
        # close the socket). Each page is awaited, so a slow machine only refills more.
        pages = 0
        while True:
            await listener.send("chat.more")
            frame = await listener.recv()
            while frame["type"] not in ("chat.page", "error"):  # room state, in between
                frame = await listener.recv()
            if frame["type"] != "chat.page":
                break
            pages += 1
            assert pages < 60, "the chat's budget never ran out"
        assert frame["code"] == "rate_limited"
        assert pages >= 8
        # The stage's budget is untouched: a raised hand still goes through.
        await listener.send("hand.raise")
        updated = await host.next_of("member.updated")
        assert (updated["member"]["user"]["id"], updated["member"]["hand_raised"]) == (
            listener_user.pk,
            True,
        )

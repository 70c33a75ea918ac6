"""A socket's session (realtime.session.SocketSession): read from its cookie, and the frames
the socket sends pass straight to the server."""

import pytest
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware

from realtime.session import SocketSession, socket_user
from tests.factories import UserFactory
from tests.support.live import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_sockets_session_comes_from_its_cookie_and_its_frames_pass_unwrapped():
    person = await database_sync_to_async(UserFactory)()
    cookie = await database_sync_to_async(session_cookie)(person)
    seen = []

    async def consumer(scope, receive, send):
        seen.append((await database_sync_to_async(socket_user)(scope), send))

    async def send(message):
        raise AssertionError("nothing is sent here")

    app = CookieMiddleware(SocketSession(consumer))
    for header, who in [(cookie, person), ("sessionid=nosuchsession", None), (None, None)]:
        headers = [(b"cookie", header.encode())] if header else []
        await app({"type": "websocket", "headers": headers}, None, send)
        user, given = seen.pop()
        assert user == who if who else not user.is_authenticated
        assert given is send

"""Driving the room socket in tests, through the real routing and consumer."""

import json

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from rooms.routing import websocket_urlpatterns

ROUTER = URLRouter(websocket_urlpatterns)


class Socket:
    """One browser's connection to a room (the user is put in the scope directly)."""

    def __init__(self, user, room_id, application=ROUTER, headers=None):
        self.comm = WebsocketCommunicator(application, f"/ws/rooms/{room_id}/", headers=headers)
        if application is ROUTER:
            self.comm.scope["user"] = user or AnonymousUser()

    async def open(self) -> dict:
        """Connects and returns the first frame."""
        connected, _ = await self.comm.connect(timeout=5)
        assert connected
        return await self.recv()

    async def send(self, kind: str, **fields) -> None:
        await self.comm.send_to(text_data=json.dumps({"type": kind, **fields}))

    async def recv(self, wait: float = 5) -> dict:
        output = await self.comm.receive_output(wait)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def next_of(self, kind: str, wait: float = 5) -> dict:
        """The next frame of this type, skipping others."""
        while True:
            frame = await self.recv(wait)
            if frame["type"] == kind:
                return frame

    async def member_update(self, user, **fields) -> dict:
        """The next `member.updated` about `user` whose member has these field values."""
        while True:
            frame = await self.next_of("member.updated")
            member = frame["member"]
            if member["user"]["id"] == user.pk and all(member[k] == v for k, v in fields.items()):
                return frame

    async def quiet(self) -> bool:
        return await self.comm.receive_nothing(timeout=0.3)

    async def types_until_quiet(self) -> list[str]:
        """The types of every frame that arrives until the socket goes quiet."""
        kinds = []
        while not await self.comm.receive_nothing(timeout=0.3):
            kinds.append((await self.recv())["type"])
        return kinds

    async def close_code(self, wait: float = 5) -> int:
        """Reads until the server closes; returns its close code."""
        while True:
            output = await self.comm.receive_output(wait)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)

    async def still_open(self) -> bool:
        await self.send("ping")
        return (await self.next_of("pong"))["type"] == "pong"

    async def close(self) -> None:
        await self.comm.disconnect()

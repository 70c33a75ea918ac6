"""How a socket's protocol is declared, read and written: frame declarations, the validation
of every frame a browser sends, the encoding of every frame the server sends, and the
registry of handlers a consumer dispatches through.

Each frame type is a msgspec Struct whose tag is its `type`. msgspec checks a frame against
its declaration in one C call (about a microsecond) with messages that name the field at
fault, and encodes a frame to plain JSON values without a hand-written serializer.

Frames from browsers reach `Protocol.parse` only through realtime.gate' gate (size, JSON,
depth, the ranges every later step can carry). Frames to browsers are built as Structs, so a
field that is not declared, or a required one that is missing, fails where the frame is made;
the types of their values are checked against the declarations by the test suite, on every
frame the server sends there (`Protocol.check_sent`), rather than on every send in production:
the hot path (audience batches, who is talking) stays as cheap as a dict.
"""

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder

from core.errors import ApplicationError

# The ids of people and rows: positive, and exact in a browser's numbers.
Id = Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class UserSummary(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person, as every frame shows one (accounts.serializers.user_summary)."""

    id: Id
    username: str
    display_name: str
    avatar_url: str | None


class ClientFrame(msgspec.Struct, kw_only=True, frozen=True, tag_field="type"):
    """A frame a browser sends. Fields that are not declared (`ref`, say) are ignored."""


class ServerFrame(msgspec.Struct, kw_only=True, tag_field="type", forbid_unknown_fields=True):
    """A frame the server sends. Those that `carries_seq` carry the room's `seq`, one more than the
    last; the others are ephemeral."""

    carries_seq: ClassVar[bool] = False


class Error(ServerFrame, tag="error"):
    """Something the client sent was refused, or the socket is about to close (then the close
    code follows). `ref` echoes the `ref` of the frame it answers, when it had one."""

    code: str
    message: str
    ref: str | int | msgspec.UnsetType = msgspec.UNSET


class Ping(ClientFrame, tag="ping"):
    """Keeps the connection (and, in a room, the member's presence) alive."""


class Pong(ServerFrame, tag="pong"):
    """The answer to `ping`."""


def frame_type(declared: type[msgspec.Struct]) -> str:
    return declared.__struct_config__.tag


def encode(frame: ServerFrame) -> str:
    """The frame as JSON text. Dates and times are written as everywhere else in the
    project's JSON (DjangoJSONEncoder: ISO 8601, milliseconds, `Z`)."""
    return encode_part(frame)


def encode_part(value: object) -> str:
    """A frame or a part of one (a struct, a list of them) as `encode` writes it."""
    return json.dumps(
        msgspec.to_builtins(value, builtin_types=(datetime,)),
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


class ProtocolViolationError(AssertionError):
    """A frame the server sent does not match its declaration."""


class Protocol:
    """Every frame type of one socket, both ways."""

    def __init__(
        self,
        name: str,
        *,
        path: str,
        about: str,
        client: Iterable[type[ClientFrame]],
        server: Iterable[type[ServerFrame]],
    ):
        self.name, self.path, self.about = name, path, about
        self.client: dict[str, type[ClientFrame]] = {}
        self.server: dict[str, type[ServerFrame]] = {}
        self._sent_decoders: dict[str, msgspec.json.Decoder] = {}
        self.extend(client=client, server=server)

    def extend(
        self, *, client: Iterable[type[ClientFrame]], server: Iterable[type[ServerFrame]]
    ) -> None:
        """Adds the frames of a feature that rides on this socket (the chat on the room's),
        declared in that feature's own app."""
        for declared in client:
            self._add(self.client, declared)
        for declared in server:
            self._add(self.server, declared)
            self._sent_decoders[frame_type(declared)] = msgspec.json.Decoder(declared)

    def _add(self, frames: dict, declared: type[msgspec.Struct]) -> None:
        kind = frame_type(declared)
        if kind in frames:
            raise ImproperlyConfigured(f"`{kind}` is declared twice on the {self.name} socket.")
        frames[kind] = declared

    @property
    def numbered(self) -> list[str]:
        return sorted(kind for kind, declared in self.server.items() if declared.carries_seq)

    def parse(self, frame: dict) -> ClientFrame:
        """The frame (through realtime.gate' gate already) as its declared Struct, or an
        ApplicationError: `unknown_type` for a type not declared, `invalid` for a frame that
        does not match its declaration."""
        kind = frame["type"]
        declared = self.client.get(kind)
        if declared is None:
            raise ApplicationError(f"Unknown message type `{kind[:40]}`.", code="unknown_type")
        try:
            return msgspec.convert(frame, declared)
        except msgspec.ValidationError as error:
            raise ApplicationError(
                f"Not a valid `{kind}` frame: {error}.", code="invalid"
            ) from error

    def check_sent(self, text: str) -> str:
        """The type of a frame the server sent, after checking it against its declaration
        (strictly: every field of the declared type, and no other)."""
        kind = json.loads(text).get("type")
        decoder = self._sent_decoders.get(kind)
        if decoder is None:
            raise ProtocolViolationError(f"The {self.name} socket sent an undeclared frame: {text}")
        try:
            decoder.decode(text)
        except msgspec.ValidationError as error:
            raise ProtocolViolationError(
                f"A `{kind}` frame does not match its declaration ({error}): {text}"
            ) from error
        return kind


Handle = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    handle: Handle  # called with the connection and the parsed frame
    budget: str  # the rate budget the frame counts against (rooms.limits.FloodGuard)


class HandlerRegistry:
    """Which handler answers each client frame type of a protocol. Features register their
    handlers (in their AppConfig.ready) instead of editing the consumer."""

    def __init__(self, protocol: Protocol, *, default_budget: str):
        self.protocol = protocol
        self.default_budget = default_budget
        self.handlers: dict[str, Handler] = {}

    def register(self, declared: type[ClientFrame], *, budget: str) -> Callable[[Handle], Handle]:
        kind = frame_type(declared)
        if self.protocol.client.get(kind) is not declared:
            raise ImproperlyConfigured(f"`{kind}` is not a declared {self.protocol.name} frame.")

        def add(handle: Handle) -> Handle:
            if kind in self.handlers:
                raise ImproperlyConfigured(f"`{kind}` has a handler already.")
            self.handlers[kind] = Handler(handle, budget)
            return handle

        return add

    def budget_of(self, kind: str | None) -> str:
        """The budget a frame counts against; an unknown or unreadable one counts too."""
        handler = self.handlers.get(kind) if kind is not None else None
        return handler.budget if handler is not None else self.default_budget

    async def dispatch(self, connection: Any, frame: dict) -> None:
        parsed = self.protocol.parse(frame)
        await self.handlers[frame["type"]].handle(connection, parsed)

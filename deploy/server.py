"""The web server: daphne, with request bodies capped before anything holds them.

daphne reads a whole request body, then hands all of it to the application at once, so a
400 MB POST costs 400 MB of memory before any view (or throttle) can say no, and it has no
setting to prevent that. Here each request counts its body as it arrives: a Content-Length
over REQUEST_MAX_BYTES is refused as soon as the headers are in, a chunked body as soon as it
passes the limit, with 413 and a closed connection (as Twisted answers a malformed request).

autobahn (daphne's WebSocket side) works out the arguments of its debug messages before it
logs them, even though they are dropped: a pretty-printed table of 40 settings for every
socket that opens, coloured names for every frame it writes, 4 % of a join storm's CPU. Here
they are worked out only if a message is written (`_later`).

A socket also gets longer to be accepted: daphne drops one that the application has not
accepted within 5 s, and a burst of sockets opening at once queues ahead of the accept (each
one's session and user are read in the process's few database threads, behind the joins of
those that came first), so a burst of a few hundred lost every socket past the fifth second.

A socket's frames are sent as they are written when the socket takes them (`WriteAtOnce`),
rather than on the event loop's next turn.

Python's cyclic garbage collector is told to look less often (`collect_less`): it walked
every young object each 700 allocations and, now and then, the whole heap, Django's and the
project's modules included, which live as long as the process.

It stops as realtime.stopping says: daphne's own stop cancels every application at once, and
a database call finishing in a worker thread then waited for good on the stopped loop.

Run it as daphne: `python -m deploy.server -b 0.0.0.0 -p 8000 config.asgi:application`.
"""

import asyncio
import gc
import logging
import signal
from pprint import pformat

from autobahn.twisted import websocket as autobahn_twisted
from autobahn.websocket import protocol as autobahn_protocol
from daphne import http_protocol
from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from django.conf import settings
from twisted.internet import reactor, tcp

from core.errors import too_large_body

logger = logging.getLogger(__name__)

# How long a socket may wait to be accepted (daphne's --websocket_connect_timeout, still
# settable): long enough for a burst of a thousand to be served in turn.
SOCKET_ACCEPT_SECONDS = 120

# Allocations between young collections (Python's default is 700), and how many collections
# of one generation make one of the next.
GC_THRESHOLDS = (20_000, 20, 20)


def _too_large_response() -> bytes:
    body = too_large_body()
    head = (
        "HTTP/1.1 413 Content Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class BoundedWebRequest(http_protocol.WebRequest):
    """daphne's request, refusing a body over REQUEST_MAX_BYTES while it arrives."""

    refused = False
    received = 0

    def __init__(self, *args, **kwargs):
        # Django reads forms itself: Twisted's own parse of a POSTed form would buffer it a
        # second time and answer a malformed multipart body with a bare 400 of its own.
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)

    def gotLength(self, length):  # noqa: N802 (Twisted's name)
        if length is not None and length > settings.REQUEST_MAX_BYTES:
            super().gotLength(0)
            # No "100 Continue": the client need not send what will not be read.
            self.requestHeaders.removeHeader(b"Expect")
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):  # noqa: N802 (Twisted's name)
        if self.refused:
            return
        self.received += len(data)
        if self.received > settings.REQUEST_MAX_BYTES:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):  # noqa: N802 (Twisted's name)
        if not self.refused:
            super().requestReceived(command, path, version)

    def _refuse(self):
        self.refused = True
        self.channel.transport.write(_too_large_response())
        self.channel.loseConnection()


class BoundedHTTPFactory(http_protocol.HTTPFactory):
    def buildProtocol(self, addr):  # noqa: N802 (Twisted's name)
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedWebRequest
        protocol.makeConnection = _writing_at_once(protocol.makeConnection)
        return protocol


def _writing_at_once(make_connection):
    def make(transport):
        if isinstance(transport, tcp.Connection):
            transport.write = WriteAtOnce(transport)
        return make_connection(transport)

    return make


class WriteAtOnce:
    """A TCP connection's `write` that sends at once what the socket takes.

    Twisted buffers every write and sends it when the event loop says the socket is
    writable: each frame registered the socket for writing, waited for the next turn of
    the loop and unregistered it, two system calls and a pass through Twisted's callback
    machinery more than the send itself. Here data goes out at once when nothing is
    waiting before it; what the socket does not take is buffered as before, and anything
    written after it waits behind it. A room's events are one frame to each of its members
    in turn, which is where this counts: 1,000 sockets that each got a frame every half
    second cost 1.53 ms of CPU per socket instead of 1.87."""

    __slots__ = ("buffered", "transport")

    def __init__(self, transport):
        self.transport = transport
        self.buffered = transport.write

    def __call__(self, data: bytes) -> None:
        transport = self.transport
        if (
            data
            and transport.connected
            and not transport.disconnecting
            and not transport._writeDisconnected
            and not transport.TLS
            and not transport._tempDataBuffer
            and transport.offset == len(transport.dataBuffer)
        ):
            sent = transport.writeSomeData(data)
            if isinstance(sent, int):
                if sent == len(data):
                    return
                data = data[sent:]
        self.buffered(data)


class _Later:
    """A debug message's argument, worked out when the message is written."""

    __slots__ = ("args", "write")

    def __init__(self, write, *args):
        self.write, self.args = write, args

    def __str__(self) -> str:
        return str(self.write(*self.args))


def _later(write):
    def later(*args):
        return _Later(write, *args)

    later.later = True
    return later


def _debug_arguments_later() -> None:
    for module, names in (
        (autobahn_protocol, ("pformat", "hltype", "hlval")),
        (autobahn_twisted, ("hltype", "hlval")),
    ):
        for name in names:
            write = getattr(module, name)
            if not getattr(write, "later", False):
                setattr(module, name, _later(write))
    # The one use of `pformat` outside a debug message must still give text.
    autobahn_protocol.Timings.__str__ = lambda timings: pformat(timings._timings)


class Server(daphne_server.Server):
    """daphne's server, stopped by SIGTERM or SIGINT as realtime.stopping says."""

    def __init__(self, *args, **kwargs):
        # The stop signals are ours, taken once the loop runs, not Twisted's.
        super().__init__(*args, signal_handlers=False, **kwargs)
        self.ports = []
        self.stopping = None

    def run(self):
        reactor.callWhenRunning(self._take_stop_signals)
        super().run()

    def listen_success(self, port):
        super().listen_success(port)
        self.ports.append(port)

    def _take_stop_signals(self) -> None:
        loop = asyncio.get_event_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, self.stop_gracefully)

    def stop_gracefully(self) -> None:
        # Loaded with the project (this module is imported before Django is set up).
        from realtime.stopping import Stop  # noqa: PLC0415

        if self.stopping is not None:
            logger.warning("Told to stop again: stopping at once.")
            self.stop()
            return
        self.stopping = Stop(
            seconds=settings.WEB_STOP_SECONDS,
            stop_listening=self._stop_listening,
            in_flight=self._in_flight,
            halt=self.stop,
        )
        self.stop_task = asyncio.get_event_loop().create_task(self.stopping.run())

    def _stop_listening(self) -> None:
        for port in self.ports:
            port.stopListening()

    def _in_flight(self) -> int:
        """Requests and sockets whose application has not finished."""
        return sum(
            1
            for details in list(self.connections.values())
            if (application := details.get("application_instance")) is not None
            and not application.done()
        )


class CommandLine(CommandLineInterface):
    server_class = Server

    def __init__(self):
        super().__init__()
        self.parser.set_defaults(websocket_connect_timeout=SOCKET_ACCEPT_SECONDS)


def collect_less() -> None:
    """Loads the project, moves everything loaded out of the garbage collector's sight (it
    lives as long as the process) and makes young collections rarer. In a join storm of
    2,000 listeners on two processes this took each one's collection time from 0.65 s to
    0.06 s (7 % of its CPU)."""
    import config.asgi  # noqa: F401, PLC0415 (daphne finds it loaded)

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main():
    collect_less()
    # daphne's server builds its HTTP factory from this module-level name and offers no
    # option for another; everything else is daphne as it ships, with a longer accept.
    daphne_server.HTTPFactory = BoundedHTTPFactory
    _debug_arguments_later()
    CommandLine.entrypoint()


if __name__ == "__main__":
    main()

"""The web server process: request bodies over REQUEST_MAX_BYTES are refused while they
arrive, before daphne buffers them (checked against a real server process)."""

import gc
import json
import select
import socket
from pathlib import Path
from pprint import pformat

import pytest
from autobahn import util as autobahn_util
from autobahn.twisted import websocket as autobahn_twisted
from autobahn.websocket import protocol as autobahn_protocol
from django.conf import settings
from twisted.internet import tcp

from deploy import server as web_server

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "/api/auth/token/"
CHUNK = b"x" * 65536


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def _response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        more = sock.recv(65536)
        if not more:
            break
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    return 0


def _send_until_answered(sock: socket.socket, chunks) -> tuple[int, dict] | None:
    """Sends the chunks, stopping as soon as the server answers; the answer, if any."""
    for chunk in chunks:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break
    try:
        return _response(sock)
    except ConnectionResetError:
        return None


def _peak_memory_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def test_a_body_declared_too_large_is_refused_before_it_is_sent(server):
    """An anonymous 400 MB sign-in attempt: the answer comes from the headers alone."""
    with _connect(server) as sock:
        sock.sendall(
            _head(
                TOKEN,
                "Content-Type: application/json",
                "Content-Length: 400000000",
                "Expect: 100-continue",
            )
        )
        status, body = _response(sock)
    assert status == 413
    assert body["error"]["code"] == "too_large"
    limit_kb = settings.REQUEST_MAX_BYTES // 1024
    assert body["error"]["message"] == f"The request is larger than the limit of {limit_kb} KB."


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server):
    chunks = (
        f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        for _ in range(4 * settings.REQUEST_MAX_BYTES // len(CHUNK))
    )
    with _connect(server) as sock:
        sock.sendall(_head(TOKEN, "Content-Type: application/json", "Transfer-Encoding: chunked"))
        answer = _send_until_answered(sock, chunks)
    # The refusal may be lost to a reset when the client goes on sending; the server never
    # read the whole body either way.
    if answer is not None:
        assert answer[0] == 413
    assert "Traceback" not in server.output()


def test_a_client_that_sends_a_large_body_anyway_costs_the_server_no_memory(server):
    size = 40 * 1024 * 1024
    before = _peak_memory_kb(server.process.pid)
    with _connect(server) as sock:
        sock.sendall(_head(TOKEN, "Content-Type: application/json", f"Content-Length: {size}"))
        _send_until_answered(sock, (CHUNK for _ in range(size // len(CHUNK))))
    # daphne alone buffers the whole body and then hands it over in memory (40 MB here).
    assert _peak_memory_kb(server.process.pid) - before < 10 * 1024


def test_bodies_under_the_limit_are_served(server):
    payload = json.dumps({"username": "nobody", "password": "x" * 100}).encode()
    with _connect(server) as sock:
        sock.sendall(
            _head(TOKEN, "Content-Type: application/json", f"Content-Length: {len(payload)}")
            + payload
        )
        status, body = _response(sock)
    assert status == 400
    assert body["error"]["code"] == "invalid_credentials"


def test_autobahns_debug_arguments_are_worked_out_only_when_written():
    """The server defers them (deploy.server); what a written message says is unchanged."""
    originals = (autobahn_util.hltype, autobahn_util.hlval)
    web_server._debug_arguments_later()
    web_server._debug_arguments_later()  # once is enough; twice changes nothing more
    table = [("openHandshakeTimeout", 5, "WebSocketServerFactory")]
    for module in (autobahn_protocol, autobahn_twisted):
        deferred = module.hltype(_head), module.hlval(42)
        assert not any(isinstance(argument, str) for argument in deferred)
        assert "{} {}".format(*deferred) == " ".join([originals[0](_head), originals[1](42)])
    assert str(autobahn_protocol.pformat(table)) == pformat(table)
    timings = autobahn_protocol.Timings()
    timings.track("opened")
    assert str(timings) == pformat(timings._timings)


def test_the_server_keeps_what_it_loaded_out_of_the_garbage_collectors_sight():
    thresholds = gc.get_threshold()
    try:
        web_server.collect_less()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == web_server.GC_THRESHOLDS
        # Loaded objects (tracked containers) are no longer among those it walks.
        loaded = [vars(web_server), settings.INSTALLED_APPS]
        walked = {id(obj) for obj in gc.get_objects()}
        assert all(gc.is_tracked(obj) and id(obj) not in walked for obj in loaded)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


class _Reactor:
    """What a Twisted connection asks of its reactor here: watching it for writing."""

    def __init__(self):
        self.writing = set()

    def addWriter(self, selectable):  # noqa: N802 (Twisted's name)
        self.writing.add(selectable)

    def removeWriter(self, selectable):  # noqa: N802 (Twisted's name)
        self.writing.discard(selectable)


def test_a_write_goes_out_at_once_and_what_the_socket_does_not_take_waits_in_order():
    ours, theirs = socket.socketpair()
    theirs.settimeout(10)
    reactor = _Reactor()
    transport = tcp.Connection(ours, protocol=None, reactor=reactor)
    transport.connected = True
    transport.write = web_server.WriteAtOnce(transport)
    try:
        transport.write(b"first")
        assert theirs.recv(100) == b"first"
        assert not reactor.writing  # sent without waiting for the event loop
        big = b"x" * (16 << 20)  # more than the socket takes at once
        transport.write(big)
        transport.write(b"last")
        assert reactor.writing == {transport}  # the rest waits for the socket
        received = bytearray()
        theirs.setblocking(False)
        while len(received) < len(big) + len(b"last"):
            try:
                received += theirs.recv(1 << 20)
            except BlockingIOError:
                transport.doWrite()
        assert received == big + b"last"
        assert not reactor.writing
    finally:
        ours.close()
        theirs.close()

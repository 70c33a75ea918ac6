"""The layout's TURN relay (deploy/turn.py): a real coturn with our configuration, reached by
a TURN client as a browser reaches it, with the credentials the web processes hand out."""

import asyncio
import os
import shutil
import ssl
import time

import pytest
from aioice import stun, turn
from django.test import override_settings

from deploy import turn as relay
from rooms.media.ice import turn_credentials
from tests.support.helpers import self_signed_certificate, turn_allocation
from tests.support.servers import TurnProcess, free_port, free_ports

SECRET = "a-test-secret-of-forty-characters-or-so!"
# A media server's ICE address on a private network, which relays may reach; everything else
# on this machine stands for Redis, Postgres and the web processes, which they may not.
MEDIA_SERVER = "127.0.0.2"
FORBIDDEN_IP = (403, "Forbidden IP")


def _coturn_or_skip() -> None:
    if shutil.which(relay.TURNSERVER) is None:
        message = f"the TURN relay needs coturn ({relay.TURNSERVER}; apt-get install coturn)"
        if os.environ.get("REQUIRE_TURN") == "1":
            pytest.fail(f"{message}, required here (REQUIRE_TURN=1).", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    _coturn_or_skip()
    folder = tmp_path_factory.mktemp("turn")
    certificate, key = self_signed_certificate(folder)
    relay_ports = free_ports(20)
    process = TurnProcess(
        free_port(),
        VAR_DIR=folder,
        TURN_SECRET=SECRET,
        TURN_LISTEN_IP="127.0.0.1",
        TURN_TLS_PORT=free_port(),
        TURN_RELAY_PORT_RANGE=f"{relay_ports}-{relay_ports + 19}",
        TURN_ALLOWED_PEER_IPS=MEDIA_SERVER,
        TLS_CERTIFICATE=certificate,
        TLS_CERTIFICATE_KEY=key,
    ).start()
    process.tls_port = int(process.env["TURN_TLS_PORT"])
    yield process
    process.stop()


def _credentials(secret=SECRET, *, user_id=7, now=None) -> tuple[str, str]:
    with override_settings(TURN_SECRET=secret):
        username, password, _ = turn_credentials(user_id=user_id, now=now)
    return username, password


class _Received(asyncio.DatagramProtocol):
    def __init__(self):
        self.datagrams: asyncio.Queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.datagrams.put_nowait((data, addr))


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context


async def _relayed_echo(coturn, transport: str) -> tuple[bytes, tuple]:
    """Sends a datagram through a relay to a peer that echoes it; what came back, from
    where."""
    loop = asyncio.get_running_loop()
    echo, _ = await loop.create_datagram_endpoint(_Echo, local_addr=(MEDIA_SERVER, 0))
    username, password = _credentials()
    server = ("127.0.0.1", coturn.tls_port if transport == "tls" else coturn.port)
    relayed, received = await turn.create_turn_endpoint(
        _Received,
        server,
        username,
        password,
        transport="udp" if transport == "udp" else "tcp",
        ssl=_tls_context() if transport == "tls" else None,
    )
    try:
        relayed.sendto(b"can you hear me", echo.get_extra_info("sockname"))
        return await asyncio.wait_for(received.datagrams.get(), 10)
    finally:
        relayed.close()
        echo.close()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_the_credentials_the_api_hands_out_get_a_relay_to_the_media_server(coturn, transport):
    data, sender = await _relayed_echo(coturn, transport)
    assert data == b"can you hear me"
    assert sender[0] == MEDIA_SERVER


async def _allocation(coturn, username, password) -> turn.TurnClientUdpProtocol:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: turn.TurnClientUdpProtocol(
            ("127.0.0.1", coturn.port),
            username=username,
            password=password,
            lifetime=600,
            channel_refresh_time=500,
        ),
        remote_addr=("127.0.0.1", coturn.port),
    )
    return protocol


def _error(failure: stun.TransactionFailed) -> tuple[int, str]:
    return failure.response.attributes["ERROR-CODE"]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(
            lambda: _credentials("another-secret-of-forty-characters-at-least"), id="forged"
        ),
        pytest.param(lambda: _credentials(now=time.time() - 7200), id="expired"),
    ],
)
async def test_forged_or_expired_credentials_get_no_relay(coturn, credentials):
    assert await turn_allocation(("127.0.0.1", coturn.port), *_credentials())
    with pytest.raises(stun.TransactionFailed) as refused:
        await turn_allocation(("127.0.0.1", coturn.port), *credentials())
    assert _error(refused.value)[0] == 401


@pytest.mark.parametrize(
    "peer",
    [
        pytest.param(("127.0.0.1", 6379), id="redis"),
        pytest.param(("127.0.0.1", 5432), id="postgres"),
        pytest.param(("127.0.0.1", 8001), id="web-process"),
        pytest.param(("10.0.0.5", 6379), id="private-network"),
        pytest.param(("192.168.1.10", 80), id="home-router"),
        pytest.param(("169.254.169.254", 80), id="cloud-metadata"),
    ],
)
async def test_a_relay_to_this_machine_or_its_network_is_refused(coturn, peer):
    protocol = await _allocation(coturn, *_credentials())
    try:
        await protocol.connect()
        with pytest.raises(stun.TransactionFailed) as refused:
            await protocol.channel_bind(0x4000, peer)
        assert _error(refused.value) == FORBIDDEN_IP
    finally:
        await protocol.delete()
        protocol.transport.close()


async def test_tcp_relays_which_would_open_connections_inward_are_not_offered(coturn):
    protocol = await _allocation(coturn, *_credentials())
    request = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST)
    request.attributes["LIFETIME"] = 600
    request.attributes["REQUESTED-TRANSPORT"] = turn.TCP_TRANSPORT
    try:
        with pytest.raises(stun.TransactionFailed) as refused:
            await protocol.request_with_retry(request)
        assert _error(refused.value)[0] == 442  # Unsupported Transport Protocol
    finally:
        protocol.transport.close()


def test_browsers_are_told_udp_then_tcp_then_tls(settings):
    settings.TURN_PUBLIC_HOST, settings.TURN_PORT, settings.TURN_TLS_PORT = (
        "turn.example",
        3478,
        443,
    )
    settings.TLS_CERTIFICATE, settings.TLS_CERTIFICATE_KEY = "", ""
    assert relay.urls() == [
        "turn:turn.example:3478?transport=udp",
        "turn:turn.example:3478?transport=tcp",
    ]
    settings.TLS_CERTIFICATE, settings.TLS_CERTIFICATE_KEY = "/cert.pem", "/key.pem"
    assert relay.urls()[-1] == "turns:turn.example:443?transport=tcp"


def test_the_relays_own_public_address_is_denied_too(settings):
    settings.TURN_EXTERNAL_IP, settings.TURN_LISTEN_IP = "203.0.114.9", "0.0.0.0"  # noqa: S104
    assert ("203.0.114.9", "203.0.114.9") in relay.denied()
    assert ("0.0.0.0", "0.0.0.0") not in relay.denied()  # noqa: S104


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("TURN_SECRET", "short", "TURN_SECRET is shorter than 32"),
        ("TURN_RELAY_PORT_RANGE", "48000-44001", "TURN_RELAY_PORT_RANGE"),
        ("TURN_RELAY_PORT_RANGE", "80-90", "TURN_RELAY_PORT_RANGE"),
        ("TURN_ALLOWED_PEER_IPS", ["10.0.0.1/8"], "TURN_ALLOWED_PEER_IPS has 10.0.0.1/8"),
        ("TURN_ALLOWED_PEER_IPS", ["10.0.0.9-redis"], "TURN_ALLOWED_PEER_IPS has 10.0.0.9-redis"),
    ],
)
def test_settings_it_cannot_relay_with_are_refused(settings, name, value, complaint):
    settings.TURN_SECRET = SECRET
    setattr(settings, name, value)
    assert any(complaint in problem for problem in relay.refusals())


def test_allowed_peers_are_written_as_coturn_takes_them(settings):
    settings.TURN_ALLOWED_PEER_IPS = ["10.1.0.0/16", "192.168.5.7", "172.16.0.1-172.16.0.9"]
    assert relay.allowed() == ["10.1.0.0-10.1.255.255", "192.168.5.7", "172.16.0.1-172.16.0.9"]
    assert not [problem for problem in relay.refusals() if "TURN_ALLOWED" in problem]

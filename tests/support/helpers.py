"""Small helpers shared by the tests."""

import asyncio
import datetime
import io
import json
import struct
import zlib

from aioice import turn
from channels.layers import get_channel_layer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from PIL import Image

from notifications.protocol import NOTIFICATIONS
from realtime.messages import NOTIFICATION_CREATED
from rooms.protocol import ROOM
from tests.factories import PASSWORD
from tests.support.contract import check_frame


def error_of(response) -> dict:
    """The `error` object of an API error response, after checking its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert body["error"]["message"], body
    return body["error"]


def image_upload(
    name="me.png", size=(640, 480), fmt="PNG", colour=(200, 80, 40)
) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


def png_bomb(width: int, height: int, name="bomb.png") -> SimpleUploadedFile:
    """A valid black 1-bit PNG of the given size, written row by row without ever holding
    its pixels: a few KB that decode to width  x  height  x  4 bytes as RGBA."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return SimpleUploadedFile(name, png, content_type="image/png")


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as context:
        func()
    return len(context.captured_queries)


class ChannelListener:
    """A channel of the real channel layer, added to groups, read synchronously.

    It keeps one event loop of its own: the Redis layer binds a channel's buffer to the
    loop that first reads it.
    """

    def __init__(self, *groups):
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        for group in groups:
            self.loop.run_until_complete(self.layer.group_add(group, self.channel))

    def messages(self, wait: float = 0.3) -> list[dict]:
        """Everything that arrived, waiting up to `wait` seconds for each next message."""

        async def drain():
            got = []
            while True:
                try:
                    got.append(await asyncio.wait_for(self.layer.receive(self.channel), wait))
                except TimeoutError:
                    return got

        return self.loop.run_until_complete(drain())

    def frames(self, wait: float = 0.3) -> list[dict]:
        """The JSON frames carried by the messages, in order, each checked against its
        declaration."""
        carried = [m for m in self.messages(wait) if "text" in m]
        for message in carried:
            protocol = NOTIFICATIONS if message["type"] == NOTIFICATION_CREATED else ROOM
            check_frame(protocol, message["text"])
        return [json.loads(m["text"]) for m in carried]

    def close(self) -> None:
        self.loop.run_until_complete(
            self.layer.flush() if hasattr(self.layer, "flush") else asyncio.sleep(0)
        )
        self.loop.close()


def openapi_schema() -> dict:
    """The OpenAPI schema `/api/schema/` serves, as JSON."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


def signs_in_on_the_server(user) -> None:
    """The tests hash passwords with a fast hasher the server does not know; people who
    sign in through a server process get a hash from its own list."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


def self_signed_certificate(folder) -> tuple:
    """A certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "cert.pem", folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


async def turn_allocation(server: tuple[str, int], username: str, password: str) -> tuple:
    """Allocates a relay over UDP as a browser's TURN client does, and gives it back; the
    relayed address. Raises what the server refuses (aioice's TransactionFailed)."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: turn.TurnClientUdpProtocol(
            server, username=username, password=password, lifetime=600, channel_refresh_time=500
        ),
        remote_addr=server,
    )
    try:
        relayed = await protocol.connect()
        await protocol.delete()
        return relayed
    finally:
        protocol.transport.close()

"""Everything that carries media on a loopback-only machine: Janus inside a network namespace
of its own, daphne outside on ROOM_MEDIA=sfu with its port forwarded in. Media tests and the
media benchmark run their peers inside the namespace."""

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.media.netns import Namespace
from tests.servers import JanusProcess, ServerProcess


@contextmanager
def media_stack(janus_secrets: dict, **server_env):
    """Yields (namespace, server, janus, media_env): `media_env` is what the server was told
    about the media server (JANUS_URL, its secrets, ROOM_MEDIA), for this process's settings."""
    namespace = Namespace().create()
    folder = Path(tempfile.mkdtemp(prefix="janus-"))
    janus = server = None
    try:
        janus = JanusProcess(
            folder, prefix=namespace.prefix, JANUS_ICE_ENFORCE_LIST="v0", **janus_secrets
        ).start()
        media_env = {"JANUS_URL": f"unix:{janus.socket}", "ROOM_MEDIA": "sfu", **janus_secrets}
        server = ServerProcess(**media_env, **server_env).start()
        namespace.forward_port(server.port)
        yield namespace, server, janus, media_env
    finally:
        if server is not None:
            server.stop()
        if janus is not None:
            janus.stop()
        namespace.delete()
        shutil.rmtree(folder, ignore_errors=True)

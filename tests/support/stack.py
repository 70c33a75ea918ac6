"""Janus (and edges) inside a network namespace, daphne outside on the same settings with its
port reachable inside: what a media test or benchmark runs its peers against."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.netns import Namespace, namespaces_available
from tests.support.servers import JanusProcess, ServerProcess

# CI installs Janus and sets this: the media tests must run there, not skip.
REQUIRE_MEDIA = os.environ.get("REQUIRE_MEDIA") == "1"


def janus_or_skip() -> None:
    if shutil.which("janus") is None:
        if REQUIRE_MEDIA:
            pytest.fail("Janus is not installed (apt-get install janus) and REQUIRE_MEDIA=1.")
        pytest.skip("Janus is not installed (apt-get install janus).")


def media_stack_or_skip() -> None:
    janus_or_skip()
    if not namespaces_available():
        message = "Media tests need root and `ip` for a network namespace."
        if REQUIRE_MEDIA:
            pytest.fail(message)
        pytest.skip(message)


class MediaStack:
    def __init__(self, secrets: dict, *, edges: int = 0, **server_env):
        self.secrets = secrets
        self.edge_count = edges
        self.server_env = server_env
        self.folders: list[Path] = []
        self.janus: JanusProcess | None = None
        self.edges: list[JanusProcess] = []
        self.server: ServerProcess | None = None

    def _janus(self, number: int) -> JanusProcess:
        folder = Path(tempfile.mkdtemp(prefix="janus-"))
        self.folders.append(folder)
        # Each Janus its own port ranges: they share the namespace's address.
        ports = 20000 + number * 5000
        return JanusProcess(
            folder,
            prefix=self.namespace.prefix,
            JANUS_ICE_ENFORCE_LIST="v0",
            JANUS_RTP_PORT_RANGE=f"{ports}-{ports + 2999}",
            JANUS_FORWARD_PORT_RANGE=f"{ports + 3000}-{ports + 4999}",
            **self.secrets,
        ).start()

    def start(self) -> "MediaStack":
        self.namespace = Namespace().create()
        self.janus = self._janus(0)
        self.edges = [self._janus(number) for number in range(1, self.edge_count + 1)]
        # The settings the server runs with (and the test process takes), then as text.
        self.settings = {
            "JANUS_URL": f"unix:{self.janus.socket}",
            "JANUS_SERVERS": [f"unix:{edge.socket}" for edge in self.edges],
            **self.secrets,
            **self.server_env,
        }
        self.env = {
            name: ",".join(value) if isinstance(value, list) else str(value)
            for name, value in self.settings.items()
        }
        self.server = ServerProcess(**self.env).start()
        self.namespace.forward_port(self.server.port)
        return self

    def settings_for(self, settings) -> None:
        """Points this test process's settings at the stack too."""
        for name, value in self.settings.items():
            setattr(settings, name, value)

    def stop(self) -> None:
        for process in (self.server, *self.edges, self.janus):
            if process is not None:
                process.stop()
        self.namespace.delete()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)

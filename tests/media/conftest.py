import shutil
import tempfile
from pathlib import Path

import pytest

from rooms.protocol import ROOM
from tests.support.contract import check_frame
from tests.support.peers import RoomClient
from tests.support.servers import JanusProcess
from tests.support.stack import janus_or_skip


@pytest.fixture(autouse=True)
def _frames_from_media_peers_are_checked(monkeypatch):
    """The media tests' peers talk to a real server process: what it sends is checked where
    they receive it."""
    monkeypatch.setattr(RoomClient, "received", staticmethod(lambda raw: check_frame(ROOM, raw)))


@pytest.fixture
def janus(settings, janus_secrets):
    """A private Janus (our configuration, API on a Unix socket); the test's settings and
    the processes it starts point at it."""
    janus_or_skip()
    folder = Path(tempfile.mkdtemp(prefix="janus-"))
    process = JanusProcess(folder, **janus_secrets).start()
    settings.JANUS_URL = f"unix:{process.socket}"
    settings.JANUS_API_SECRET = janus_secrets["JANUS_API_SECRET"]
    settings.JANUS_ADMIN_KEY = janus_secrets["JANUS_ADMIN_KEY"]
    yield process
    process.stop()
    shutil.rmtree(folder, ignore_errors=True)

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from rooms.protocol import ROOM
from tests.contract import check_frame
from tests.media.peers import RoomClient
from tests.servers import JanusProcess

# CI installs Janus and sets this: the media tests must run there, not skip.
REQUIRE_MEDIA = os.environ.get("REQUIRE_MEDIA") == "1"


def janus_or_skip() -> None:
    if shutil.which("janus") is None:
        if REQUIRE_MEDIA:
            pytest.fail("Janus is not installed (apt-get install janus) and REQUIRE_MEDIA=1.")
        pytest.skip("Janus is not installed (apt-get install janus).")


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

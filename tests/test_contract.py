"""The suite sends every frame type the sockets declare (see tests/support/contract.py)."""

import os
import shutil

import pytest

from notifications.protocol import NOTIFICATIONS
from rooms.protocol import ROOM
from tests.support.contract import FULL_RUN, SENT

# Only a running media server makes these; without Janus their tests are skipped.
MEDIA_SERVER_FRAMES = {"speaking", "media.offer", "media.answer", "media.hangup"}


def test_every_declared_server_frame_is_sent_by_the_suite(request):
    if not request.config.stash.get(FULL_RUN, False):
        pytest.skip("only a run of every room, media and notification test can tell")
    media_server = shutil.which("janus") is not None or os.environ.get("REQUIRE_MEDIA") == "1"
    for protocol in (ROOM, NOTIFICATIONS):
        declared = set(protocol.server)
        if protocol is ROOM and not media_server:
            declared -= MEDIA_SERVER_FRAMES
        assert declared <= SENT[protocol.name], (
            f"{protocol.name} frames declared but never sent: {sorted(declared - SENT[protocol.name])}"
        )

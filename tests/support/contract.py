"""The socket contract, checked on every frame the server sends during the suite (as Zulip
checks each event against its schema): each frame is checked against its declaration
wherever a test meets it — as a consumer in this process sends it, as the channel layer
carries it (ChannelListener), or as a real server process's socket delivers it (LiveSocket,
the media tests' RoomClient) — and the types seen are kept for the test that every declared
frame is sent somewhere. A test during which a frame breaks its declaration fails."""

import pytest

from notifications.consumers import NotificationConsumer
from notifications.protocol import NOTIFICATIONS
from realtime.protocol import Protocol, ProtocolViolationError
from rooms.consumers import RoomConsumer
from rooms.protocol import ROOM

CHECKED = ((RoomConsumer, ROOM), (NotificationConsumer, NOTIFICATIONS))
# The frame types of each protocol sent in this test session.
SENT: dict[str, set[str]] = {protocol.name: set() for _, protocol in CHECKED}
# What the running test's frames broke (tests may read frames in threads of their own).
VIOLATIONS: list[str] = []


def check_frame(protocol: Protocol, text: str) -> None:
    """A frame the server sent, however the test got it: checked, and its type counted."""
    try:
        SENT[protocol.name].add(protocol.check_sent(text))
    except ProtocolViolationError as violation:
        VIOLATIONS.append(str(violation))


def _checked_send(original, protocol: Protocol):
    async def send(self, text_data=None, bytes_data=None, close=False):
        if text_data is not None:
            check_frame(protocol, text_data)
        await original(self, text_data=text_data, bytes_data=bytes_data, close=close)

    return send


@pytest.fixture(autouse=True)
def _sent_frames_match_their_declarations(monkeypatch):
    VIOLATIONS.clear()
    for consumer, protocol in CHECKED:
        monkeypatch.setattr(consumer, "send", _checked_send(consumer.send, protocol))
    yield
    broken, VIOLATIONS[:] = list(VIOLATIONS), []
    assert not broken, "\n".join(broken)


# --- every declared frame is sent somewhere -----------------------------------------------

COVERAGE_TEST = "test_every_declared_server_frame_is_sent_by_the_suite"
# The folders whose tests, run in full, send every frame the server declares.
SENDING_TESTS = ("rooms", "media", "notifications")
FULL_RUN = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The coverage test runs last, and only knows it may judge when every test of the
    folders that send frames is in the run (not after -k, a single file, ...)."""
    last = [item for item in items if item.name == COVERAGE_TEST]
    items[:] = [item for item in items if item.name != COVERAGE_TEST] + last
    tests_root = config.rootpath / "tests"
    wanted = {path for folder in SENDING_TESTS for path in (tests_root / folder).glob("test_*.py")}
    unfiltered = not config.getoption("keyword") and not config.getoption("markexpr")
    config.stash[FULL_RUN] = unfiltered and wanted <= {item.path for item in items}

"""The socket contract, checked on every frame the server sends during the suite (as Zulip
checks each event against its schema): consumers' sends are wrapped, each frame is checked
against its declaration, and the types seen are kept for the test that every declared frame
is sent somewhere."""

import pytest

from config.protocol import ProtocolViolationError
from notifications.consumers import NotificationConsumer
from notifications.protocol import NOTIFICATIONS
from rooms.consumers import RoomConsumer
from rooms.protocol import ROOM

CHECKED = ((RoomConsumer, ROOM), (NotificationConsumer, NOTIFICATIONS))
# The frame types each protocol's consumer sent in this test session.
SENT: dict[str, set[str]] = {protocol.name: set() for _, protocol in CHECKED}


def _checked_send(original, protocol, violations: list[str]):
    async def send(self, text_data=None, bytes_data=None, close=False):
        if text_data is not None:
            try:
                SENT[protocol.name].add(protocol.check_sent(text_data))
            except ProtocolViolationError as violation:
                violations.append(str(violation))
        await original(self, text_data=text_data, bytes_data=bytes_data, close=close)

    return send


@pytest.fixture(autouse=True)
def _sent_frames_match_their_declarations(monkeypatch):
    violations: list[str] = []
    for consumer, protocol in CHECKED:
        monkeypatch.setattr(consumer, "send", _checked_send(consumer.send, protocol, violations))
    yield violations
    assert not violations, "\n".join(violations)


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

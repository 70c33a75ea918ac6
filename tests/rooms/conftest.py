from datetime import UTC, datetime

import pytest
from django.utils import timezone

from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _quick_rooms(settings):
    """A short audience window keeps the socket tests quick; the rules are the same."""
    settings.ROOM_AUDIENCE_BATCH_SECONDS = 0.05
    settings.ROOM_AUDIENCE_BATCH_SECONDS_BIG = 0.05


@pytest.fixture
def host(db):
    return UserFactory(username="host", display_name="Host")


@pytest.fixture
def live_room(host) -> Room:
    return room_create(host=host, title="Late talk")


@pytest.fixture
def november(monkeypatch):
    """Pins the clock to 1 November 2026, so fixed dates in December are weeks ahead."""
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now

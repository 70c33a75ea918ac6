"""docs/protocol.md is what the declarations say."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.management.commands.protocol_doc import protocol_page
from notifications.protocol import NOTIFICATIONS
from rooms.protocol import ROOM


def test_the_protocol_page_is_up_to_date():
    page = settings.BASE_DIR / "docs" / "protocol.md"
    assert page.read_text() == protocol_page(), "run `python manage.py protocol_doc`"


def test_the_page_covers_every_frame_both_ways():
    page = protocol_page()
    for protocol in (ROOM, NOTIFICATIONS):
        for kind in [*protocol.client, *protocol.server]:
            assert f"#### `{kind}`" in page


def test_the_check_fails_on_a_stale_page(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "protocol.md").write_text("# Socket protocols\n")
    with pytest.raises(CommandError, match="out of date"):
        call_command("protocol_doc", "--check")
    call_command("protocol_doc")
    call_command("protocol_doc", "--check")

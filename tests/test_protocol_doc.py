"""docs/protocol.md and static/js/protocol.js are what the declarations say."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.management.commands.protocol_doc import (
    generated,
    protocol_page,
    protocol_script,
)
from notifications.protocol import NOTIFICATIONS
from realtime.close_codes import CLOSE_MEANINGS
from rooms.protocol import REACTIONS, ROOM


def test_the_protocol_page_and_the_browser_s_module_are_up_to_date():
    for path, text in generated().items():
        assert path.read_text() == text, f"{path}: run `python manage.py protocol_doc`"


def test_the_browser_s_module_names_every_frame_close_code_and_reaction():
    script = protocol_script()
    for protocol in (ROOM, NOTIFICATIONS):
        for kind in [*protocol.client, *protocol.server]:
            assert f'"{kind}"' in script
    for code in CLOSE_MEANINGS:
        assert f": {code}" in script
    assert all(emoji in script for emoji in REACTIONS)


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
    # The browser's module too.
    script = tmp_path / "static" / "js" / "protocol.js"
    script.write_text(script.read_text().replace("4012", "4013"))
    with pytest.raises(CommandError, match=r"protocol\.js is out of date"):
        call_command("protocol_doc", "--check")

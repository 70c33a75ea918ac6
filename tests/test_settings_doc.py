"""docs/reference/settings.md is what the `#:` comments in config/settings.py say, and every
variable the settings read has one."""

import ast
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.settings_doc import settings_markdown

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "config" / "settings.py"
PAGE = ROOT / "docs" / "reference" / "settings.md"


def _variables_read() -> set[str]:
    """Every name the settings pass to `env(...)` or `env.<kind>(...)`, found without the
    generator, so that a variable it missed shows here."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = ast.unparse(node.func)
            if called == "env" or called.startswith("env."):
                names.add(node.args[0].value)
    return names


def _table_names(page: str) -> list[str]:
    return [
        name
        for row in page.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`(\w+)`", row.split(" | ")[0])
    ]


def test_the_settings_page_is_up_to_date():
    call_command("settings_doc", "--check")


def test_the_check_fails_on_a_stale_page(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "config").mkdir()
    shutil.copy(SETTINGS, tmp_path / "config" / "settings.py")
    page = tmp_path / "docs" / "reference" / "settings.md"
    page.parent.mkdir(parents=True)
    page.write_text(
        PAGE.read_text().replace("| `ROOM_SPEAKER_CAP` | `8` |", "| `ROOM_SPEAKER_CAP` | `9` |")
    )
    with pytest.raises(CommandError, match=r"settings\.md is out of date"):
        call_command("settings_doc", "--check")
    call_command("settings_doc")
    call_command("settings_doc", "--check")
    assert page.read_text() == PAGE.read_text()


def test_every_variable_the_settings_read_is_in_the_table_once():
    listed = Counter(_table_names(PAGE.read_text()))
    assert set(listed) == _variables_read()
    assert set(listed.values()) == {1}
    assert len(listed) == 109
    assert {"DEBUG", "DATABASE_URL", "JANUS_ADMIN_KEY", "LOG_LEVEL", "WEB_PROCESSES"} <= set(listed)


def test_a_variable_without_its_comment_fails_naming_it():
    source = SETTINGS.read_text() + '\nROOM_NEW_LIMIT = env.int("ROOM_NEW_LIMIT", default=4)\n'
    with pytest.raises(ValueError, match=r"ROOM_NEW_LIMIT \(line \d+\) is read without a `#:`"):
        settings_markdown(source)


def test_rows_show_the_code_s_default_unless_the_comment_states_one():
    source = """
env = environ.Env()
# An ordinary comment, for the code's readers.
#: Largest upload, in
#: bytes.
UPLOAD_BYTES = env.int("UPLOAD_BYTES", default=2 * 1024 * 1024)
#: with UPLOAD_BYTES
UPLOAD_SECONDS = env.float("UPLOAD_SECONDS", default=2.0)
#: Off on a laptop.
CHECKS = env.bool("CHECKS", default=not DEBUG)
#: Where | what.
HOSTS = env.list("HOSTS", default=[])
#: default: `./var`
#: Runtime files.
VAR = env("VAR", default=str(BASE / "var"))
"""
    rows = [row for row in settings_markdown(source).splitlines() if row.startswith("| `")]
    assert rows == [
        "| `UPLOAD_BYTES`, `UPLOAD_SECONDS` | `2097152`, `2` | Largest upload, in bytes. |",
        "| `CHECKS` | `not DEBUG` | Off on a laptop. |",
        "| `HOSTS` | empty | Where \\| what. |",
        "| `VAR` | `./var` | Runtime files. |",
    ]


def test_a_doc_comment_that_documents_nothing_fails():
    source = '#: A setting that went away.\n\n#: Kept.\nKEPT = env.str("KEPT", default="")\n'
    with pytest.raises(ValueError, match="comment on line 1 is above no variable read"):
        settings_markdown(source)

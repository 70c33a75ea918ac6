"""Writes docs/reference/settings.md from the `#:` comments in config/settings.py."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from core.generated import GeneratedFilesCommand
from core.settings_doc import settings_markdown


def page_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "reference" / "settings.md"


def settings_page() -> str:
    """The page for the settings module as it is on disk, not as this process imported it."""
    source = (Path(settings.BASE_DIR) / "config" / "settings.py").read_text()
    try:
        return settings_markdown(source)
    except ValueError as error:
        raise CommandError(f"config/settings.py: {error}") from error


class Command(GeneratedFilesCommand):
    help = "Write docs/reference/settings.md (every environment variable) from config/settings.py."

    def generated(self) -> dict[Path, str]:
        return {page_path(): settings_page()}

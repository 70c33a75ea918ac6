"""Writes docs/reference/settings.md from the `#:` comments in config/settings.py."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

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


class Command(BaseCommand):
    help = "Write docs/reference/settings.md (every environment variable) from config/settings.py."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only check that the page is up to date."
        )

    def handle(self, *args, check: bool = False, **options):
        path, text = page_path(), settings_page()
        if check:
            if not path.exists() or path.read_text() != text:
                raise CommandError(f"{path} is out of date: run `manage.py settings_doc`.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.stdout.write(f"Wrote {path}.")

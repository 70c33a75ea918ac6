"""Writes docs/protocol.md from the socket protocols' declarations."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.protocol_doc import protocol_markdown
from notifications.protocol import NOTIFICATIONS
from rooms.protocol import ROOM


def protocol_page() -> str:
    return protocol_markdown([ROOM, NOTIFICATIONS])


class Command(BaseCommand):
    help = "Write docs/protocol.md (the socket protocols) from the frame declarations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only check that the page is up to date."
        )

    def handle(self, *args, check: bool = False, **options):
        path = Path(settings.BASE_DIR) / "docs" / "protocol.md"
        page = protocol_page()
        if check:
            if not path.exists() or path.read_text() != page:
                raise CommandError(f"{path} is out of date: run `manage.py protocol_doc`.")
            return
        path.parent.mkdir(exist_ok=True)
        path.write_text(page)
        self.stdout.write(f"Wrote {path}.")

"""Writes docs/protocol.md and static/js/protocol.js from the socket protocols' declarations."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from notifications.protocol import NOTIFICATIONS
from realtime.protocol_doc import protocol_markdown
from realtime.protocol_js import protocol_module
from rooms.models import RoomMember
from rooms.protocol import REACTIONS, ROOM


def protocol_page() -> str:
    return protocol_markdown([ROOM, NOTIFICATIONS])


def protocol_script() -> str:
    return protocol_module(
        [ROOM, NOTIFICATIONS],
        {
            "ROLES": list(RoomMember.Role.values),
            "STAGE_ROLES": list(RoomMember.STAGE_ROLES),
            "REACTIONS": list(REACTIONS),
        },
    )


def generated() -> dict[Path, str]:
    """Each generated file and what it must hold."""
    root = Path(settings.BASE_DIR)
    return {
        root / "docs" / "protocol.md": protocol_page(),
        root / "static" / "js" / "protocol.js": protocol_script(),
    }


class Command(BaseCommand):
    help = (
        "Write docs/protocol.md and static/js/protocol.js (the socket protocols) from the "
        "frame declarations."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only check that the files are up to date."
        )

    def handle(self, *args, check: bool = False, **options):
        for path, text in generated().items():
            if check:
                if not path.exists() or path.read_text() != text:
                    raise CommandError(f"{path} is out of date: run `manage.py protocol_doc`.")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            self.stdout.write(f"Wrote {path}.")

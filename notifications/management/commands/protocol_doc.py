"""Writes docs/protocol.md and static/js/protocol.js from the socket protocols' declarations."""

from pathlib import Path

from django.conf import settings

from core.generated import GeneratedFilesCommand
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


class Command(GeneratedFilesCommand):
    help = (
        "Write docs/protocol.md and static/js/protocol.js (the socket protocols) from the "
        "frame declarations."
    )

    def generated(self) -> dict[Path, str]:
        return generated()

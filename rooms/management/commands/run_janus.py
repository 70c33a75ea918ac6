"""Runs a private Janus for this deployment: our configuration (VAR_DIR/janus), JANUS_URL's
listener, the API secret and admin key from settings. `make run` starts it when `janus` is
installed; a deployment with its own Janus hosts runs `janus_config` there instead."""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.media.janus_config import janus_config_write


class Command(BaseCommand):
    help = "Writes Roundtable's Janus configuration and runs Janus in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--binary", default=os.environ.get("JANUS_BINARY", "janus"))
        parser.add_argument(
            "--folder", help="Where to write the configuration (default: VAR_DIR/janus)."
        )

    def handle(self, *args, binary, folder, **options):
        path = shutil.which(binary)
        if path is None:
            raise CommandError(f"`{binary}` is not installed (apt-get install janus).")
        if not settings.JANUS_URL:
            raise CommandError("Set JANUS_URL (unix:<path> or ws://<private address>:<port>).")
        if settings.JANUS_URL.startswith("unix:"):
            socket = settings.JANUS_URL.removeprefix("unix:")
            os.makedirs(os.path.dirname(socket), exist_ok=True)
            if os.path.exists(socket):
                os.unlink(socket)
        folder = janus_config_write(
            Path(folder) if folder else settings.VAR_DIR / "janus",
            url=settings.JANUS_URL,
            api_secret=settings.JANUS_API_SECRET,
            admin_key=settings.JANUS_ADMIN_KEY,
        )
        os.execv(path, [path, "-F", str(folder), "-C", str(folder / "janus.jcfg")])  # noqa: S606

"""The systemd units in deploy/systemd/ (for hosts that run the layout under systemd rather
than `make serve-prod`'s supervisord): each one is a unit systemd reads without a complaint,
once pointed at this checkout's Python (the units name /srv/roundtable)."""

import re
import shutil
import subprocess
import sys

import pytest

from tests.support.servers import ROOT

UNITS = ROOT / "deploy" / "systemd"
INSTANCES = [
    "roundtable.target",
    "roundtable-web@8001.service",
    "roundtable-worker@1.service",
    "roundtable-replays.service",
    "roundtable-beat.service",
    "roundtable-proxy.service",
    "roundtable-media.service",
    "roundtable-turn.service",
]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("unit", INSTANCES)
def test_each_unit_is_read_without_a_complaint(unit, tmp_path):
    for path in UNITS.iterdir():
        text = path.read_text().replace("/srv/roundtable/.venv/bin/python", sys.executable)
        (tmp_path / path.name).write_text(text.replace("/srv/roundtable", str(ROOT)))
    checked = subprocess.run(
        ["systemd-analyze", "verify", f"./{unit}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_every_unit_file_is_checked():
    templates = {re.sub(r"@[^.]+\.", "@.", name) for name in INSTANCES}
    assert templates == {path.name for path in UNITS.iterdir()}

"""The production layout under a supervisor: supervisord, configured from settings, runs nginx,
the web processes, the Celery worker(s) and beat, a private Janus and a TURN relay, and
starts again any that dies while the others go on serving.

- `python -m deploy.supervisor run [--media]` refuses settings unfit to serve (deploy.nginx's
  checks), writes VAR_DIR/supervisor/supervisord.conf and becomes supervisord in the
  foreground (`make serve-prod`). With TURN_SERVER=auto, coturn installed and no TURN_URLS
  of the deployment's own, it runs the relay too (deploy.turn) and hands its URLs and secret
  to the web processes. Ctrl-C or SIGTERM stops every process it started, each its
  own way (a web process closes its sockets with "restarting", the worker finishes its task),
  then supervisord exits.
- `python -m deploy.supervisor restart-web` restarts the web processes one at a time, each
  back before the next goes (`make restart-web`): a deploy that drops no room.
- `python -m deploy.supervisor watch` is supervisord's event listener: every unexpected exit
  is reported in VAR_DIR/supervisor/logs/watch.log, and a process that keeps crashing is
  stopped rather than restarted forever (supervisord itself logs one that cannot start).

Debian's `supervisor` package provides supervisord and supervisorctl; its own configuration
and service are never used. deploy/systemd/ has units for hosts that use systemd instead.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict, deque
from pathlib import Path

from django.conf import settings
from django.template import Context, Engine

from deploy import nginx
from deploy import turn as relay

SUPERVISORD = os.environ.get("SUPERVISORD_BINARY", "/usr/bin/supervisord")
SUPERVISORCTL = os.environ.get("SUPERVISORCTL_BINARY", "/usr/bin/supervisorctl")
ROOT = Path(__file__).resolve().parent.parent
# A process that dies within its `startsecs` is retried after 1, 2, … seconds this many
# times, then given up.
START_RETRIES = 5
# A process that ran, then crashed this many times within the window, is stopped.
CRASHES_BEFORE_GIVING_UP = 5
CRASH_WINDOW_SECONDS = 600
# What supervisord waits beyond a process's own bound before it kills the process.
STOP_MARGIN_SECONDS = 5


def folder() -> Path:
    return (settings.VAR_DIR / "supervisor").resolve()


def config_path() -> Path:
    return folder() / "supervisord.conf"


def render(*, media: bool, turn: bool = False) -> Path:
    """Writes supervisord.conf from settings; returns its path."""
    (folder() / "logs").mkdir(parents=True, exist_ok=True)
    engine = Engine(dirs=[Path(__file__).parent], autoescape=False)
    text = engine.get_template("supervisord.conf").render(
        Context(
            {
                "folder": folder(),
                "root": ROOT,
                "python": sys.executable,
                "media": media,
                "turn": turn,
                "web_ports": nginx.web_ports(),
                "workers": range(1, settings.WORKER_PROCESSES + 1),
                "start_retries": START_RETRIES,
                "web_stop_seconds": int(settings.WEB_STOP_SECONDS) + STOP_MARGIN_SECONDS,
                "worker_stop_seconds": settings.WORKER_STOP_SECONDS + STOP_MARGIN_SECONDS,
            },
            autoescape=False,
        )
    )
    path = config_path()
    path.write_text(text)
    return path


def _binary(path: str, package: str) -> str:
    found = shutil.which(path)
    if found is None:
        sys.exit(f"{path} is not installed (apt-get install {package}).")
    return found


def run(*, media: bool) -> None:
    nginx.check_or_exit()
    turn = relay.wanted()
    if turn:
        relay.check_or_exit()
        # Every program inherits supervisord's environment: the web processes tell browsers
        # about this relay, with credentials signed by its secret.
        os.environ["TURN_URLS"] = ",".join(relay.urls())
        os.environ["TURN_SECRET"] = settings.TURN_SECRET
        sys.stdout.write(f"TURN relay: {', '.join(relay.urls())}\n")
    # nginx sends the replays' audio once a web process checked who asks.
    os.environ["REPLAY_FILES_BY_PROXY"] = "1"
    config = render(media=media, turn=turn)
    binary = _binary(SUPERVISORD, "supervisor")
    sys.stdout.write(f"Processes and their logs: {folder()}/logs (supervisorctl -c {config})\n")
    sys.stdout.flush()
    os.execv(binary, [binary, "-n", "-c", str(config)])  # noqa: S606


def ctl(*args: str) -> subprocess.CompletedProcess:
    """supervisorctl, on this layout's supervisord."""
    command = [_binary(SUPERVISORCTL, "supervisor"), "-c", str(config_path()), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def restart_web() -> None:
    """Each web process in turn: stopped (its sockets reconnect to the others), started, and
    running before the next one stops."""
    for port in nginx.web_ports():
        name = f"web:web-{port}"
        done = ctl("restart", name)
        if "started" not in done.stdout:
            sys.exit(f"{name} did not come back: {done.stdout}{done.stderr}Stopped here.")
        sys.stdout.write(f"{name} restarted\n")
        sys.stdout.flush()


def _report(line: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
    sys.stderr.flush()


def _fields(text: str) -> dict[str, str]:
    return dict(field.split(":", 1) for field in text.split())


class Watcher:
    """Decides on each event supervisord sends: a FATAL process is reported; a process that
    crashed too often within the window is stopped and reported."""

    def __init__(self, stop) -> None:
        self.stop = stop
        self.crashes: dict[str, deque[float]] = defaultdict(deque)

    def event(self, name: str, payload: dict[str, str], now: float) -> None:
        process = f"{payload['groupname']}:{payload['processname']}"
        log = folder() / "logs" / f"{payload['processname']}.log"
        if name == "PROCESS_STATE_FATAL":
            _report(
                f"{process} could not be started ({START_RETRIES + 1} tries); gave up. "
                f"Its log: {log}"
            )
            return
        if name != "PROCESS_STATE_EXITED" or payload.get("expected") == "1":
            return
        crashes = self.crashes[process]
        crashes.append(now)
        while crashes and crashes[0] < now - CRASH_WINDOW_SECONDS:
            crashes.popleft()
        if len(crashes) < CRASHES_BEFORE_GIVING_UP:
            _report(f"{process} exited unexpectedly (pid {payload.get('pid')}); restarting it.")
            return
        crashes.clear()
        self.stop(process)
        _report(
            f"{process} crashed {CRASHES_BEFORE_GIVING_UP} times within "
            f"{CRASH_WINDOW_SECONDS // 60} minutes; stopped it, the others go on. Its log: "
            f"{log}. Start it again with: supervisorctl -c {config_path()} start {process}"
        )


def watch() -> None:
    """supervisord's event listener protocol: READY, a header line, its payload, RESULT."""
    server = os.environ.get("SUPERVISOR_SERVER_URL", f"unix://{folder()}/supervisor.sock")
    binary = _binary(SUPERVISORCTL, "supervisor")

    def stop(process: str) -> None:
        subprocess.run([binary, "-s", server, "stop", process], capture_output=True, check=False)  # noqa: S603

    watcher = Watcher(stop)
    # Stopped with the rest: quietly.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    while True:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        header = _fields(sys.stdin.readline())
        payload = sys.stdin.read(int(header["len"]))
        watcher.event(header["eventname"], _fields(payload), time.monotonic())
        sys.stdout.write("RESULT 2\nOK")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.supervisor", description=__doc__)
    parser.add_argument("action", choices=["run", "restart-web", "watch"])
    parser.add_argument("--media", action="store_true", help="Run a private Janus too.")
    args = parser.parse_args(argv)
    if args.action == "run":
        run(media=args.media)
    elif args.action == "restart-web":
        restart_web()
    else:
        watch()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    main()

"""The production layout's front: nginx, configured from settings, in front of the daphne
processes.

`python -m deploy.nginx check` refuses settings unfit to serve (what `manage.py check
--deploy` finds, several processes without Redis, nginx not trusted for client addresses)
and writes the configuration; `python -m deploy.nginx run` does the same, then becomes
nginx in the foreground, everything it writes (pid, logs, buffers) under VAR_DIR/nginx, so
it runs as any user. The supervisor runs it (deploy/supervisor.py).
"""

import argparse
import contextlib
import grp
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.template import Context, Engine

from core.client_address import is_trusted_proxy
from core.errors import too_large_body

# The descriptors an nginx worker may hold: two per proxied socket.
WORKER_CONNECTIONS = 8192
# How long nginx lets a proxied connection go without a byte either way. Sockets carry a ping
# far more often (browsers every 15-25 s, daphne every 20 s); the server closes a silent
# room socket itself after ROOM_HEARTBEAT_TIMEOUT_SECONDS.
SOCKET_IDLE_SECONDS = 120
NGINX = os.environ.get("NGINX_BINARY", "/usr/sbin/nginx")


def web_ports() -> list[int]:
    """The daphne processes' ports on 127.0.0.1: WEB_PORT and the ones after it."""
    return [settings.WEB_PORT + index for index in range(settings.WEB_PROCESSES)]


def upstreams() -> list[str]:
    return [f"127.0.0.1:{port}" for port in web_ports()]


# A trusted proxy network this wide is everyone (0.0.0.0/0), not a proxy.
WIDEST_PROXY_PREFIX = {4: 8, 6: 32}
SECRET_MIN_LENGTH = 32


def unsafe_settings() -> list[str]:
    """Settings no deployment serves with, SERVE_INSECURE or not: they are not about TLS,
    and a local trial must not teach anyone to trust every address."""
    problems = []
    for entry in settings.TRUSTED_PROXIES:
        network = ipaddress.ip_network(entry.strip(), strict=False)
        if network.prefixlen < WIDEST_PROXY_PREFIX[network.version]:
            problems.append(
                f"TRUSTED_PROXIES has {entry}: every client's X-Forwarded-For would be believed "
                "(and its throttles escaped). Name your proxies' own addresses."
            )
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            "ALLOWED_HOSTS=* answers any Host and lets sockets open from any site: name the "
            "host names this deployment serves."
        )
    if settings.PUSH_ALLOW_LOOPBACK:
        problems.append(
            "PUSH_ALLOW_LOOPBACK=1 lets push subscriptions reach this machine's own services: "
            "it is for tests; unset it."
        )
    if settings.JANUS_URL:
        for name in ("JANUS_API_SECRET", "JANUS_ADMIN_KEY"):
            if len(getattr(settings, name)) < SECRET_MIN_LENGTH:
                problems.append(
                    f"{name} is shorter than {SECRET_MIN_LENGTH} characters: set a random one "
                    "(python3 -c 'import secrets; print(secrets.token_hex(32))')."
                )
    return problems


def refusals(*, insecure: bool) -> list[str]:
    """What stands between these settings and serving: empty when it may start."""
    problems = unsafe_settings()
    if settings.WEB_PROCESSES < 1:
        problems.append("WEB_PROCESSES must be 1 or more.")
    if settings.WEB_PROCESSES > 1 and not settings.REDIS_URL:
        problems.append(
            "Several web processes share rooms through Redis only: set REDIS_URL, "
            "or WEB_PROCESSES=1."
        )
    if bool(settings.TLS_CERTIFICATE) != bool(settings.TLS_CERTIFICATE_KEY):
        problems.append("TLS_CERTIFICATE and TLS_CERTIFICATE_KEY go together.")
    if not is_trusted_proxy("127.0.0.1"):
        problems.append(
            "TRUSTED_PROXIES must include 127.0.0.1 (nginx, as the web processes see it); "
            "otherwise every client has nginx's address and shares its throttles."
        )
    if not insecure:
        try:
            call_command("check", deploy=True, fail_level="WARNING")
        except SystemCheckError as error:
            problems.append(
                f"{error}\nFix these, or set SERVE_INSECURE=1 to try the layout locally "
                "without TLS."
            )
    return problems


def _worker_user(folder: Path) -> str | None:
    """nginx started by root hands its workers to another user (`nobody`) that cannot use
    our folders; they run as the folder's owner instead."""
    if os.geteuid() != 0:
        return None
    stat = folder.stat()
    return f"{pwd.getpwuid(stat.st_uid).pw_name} {grp.getgrgid(stat.st_gid).gr_name}"


def render(folder: Path) -> Path:
    """Writes folder/nginx.conf from settings (and the folders nginx writes into)."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
    tls = None
    if settings.TLS_CERTIFICATE:
        tls = {"certificate": settings.TLS_CERTIFICATE, "key": settings.TLS_CERTIFICATE_KEY}
    engine = Engine(dirs=[Path(__file__).parent], autoescape=False)
    text = engine.get_template("nginx.conf").render(
        Context(
            {
                "folder": folder,
                "user": _worker_user(folder),
                "listen": settings.PROXY_LISTEN,
                "tls": tls,
                "upstreams": upstreams(),
                "worker_connections": WORKER_CONNECTIONS,
                "socket_timeout": SOCKET_IDLE_SECONDS,
                "request_max_bytes": settings.REQUEST_MAX_BYTES,
                "too_large_body": too_large_body().decode(),
                "static_root": Path(settings.STATIC_ROOT).resolve(),
                "media_root": Path(settings.MEDIA_ROOT).resolve(),
                "replays_root": Path(settings.REPLAYS_ROOT).resolve(),
            },
            autoescape=False,
        )
    )
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


def check_or_exit(folder: Path | None = None) -> tuple[str, Path, Path]:
    """Refuses settings unfit to serve, writes the configuration and has nginx test it;
    returns nginx's binary, its folder and the configuration's path."""
    insecure = os.environ.get("SERVE_INSECURE") == "1"
    problems = refusals(insecure=insecure)
    if problems:
        sys.exit("Refusing to serve:\n- " + "\n- ".join(problems))
    if insecure:
        sys.stderr.write("SERVE_INSECURE=1: serving without the deployment checks.\n")
    folder = Path(folder or settings.VAR_DIR / "nginx").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = render(folder)
    binary = shutil.which(NGINX)
    if binary is None:
        sys.exit(f"nginx is not installed (apt-get install nginx), looked for {NGINX}.")
    test = [binary, "-q", "-t", "-p", str(folder), "-c", str(config), "-e", "stderr"]
    if subprocess.run(test, check=False).returncode != 0:  # noqa: S603
        sys.exit(f"nginx refused the configuration written to {config}.")
    return binary, folder, config


def stop_orphans(folder: Path) -> None:
    """An nginx whose master was killed leaves its workers serving on the port (`reuseport`
    lets the next one bind it too), on an old configuration and for good. They share the
    dead master's process group (the supervisor makes each program a group of its own),
    whose id is the pid in nginx.pid: whatever is left of that group is stopped. (No process
    is given a pid that a living group still has as its id, so the group is theirs.)"""
    try:
        master = int((folder / "nginx.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(master, 0)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(master, signal.SIGTERM)
        return
    except PermissionError:
        pass
    with contextlib.suppress(OSError):
        if Path(f"/proc/{master}/cmdline").read_bytes().startswith(b"nginx: master"):
            sys.exit(f"nginx is already running with pid {master} (its pid file: {folder}).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.nginx", description=__doc__)
    parser.add_argument("action", choices=["check", "run"])
    parser.add_argument(
        "--folder", help="Where nginx's configuration and files go (default: VAR_DIR/nginx)."
    )
    args = parser.parse_args(argv)
    binary, folder, config = check_or_exit(args.folder)
    if args.action == "check":
        sys.stdout.write(f"nginx configuration written to {config} for {len(upstreams())} web ")
        sys.stdout.write("process.\n" if len(upstreams()) == 1 else "processes.\n")
        return
    stop_orphans(folder)
    run = [binary, "-p", str(folder), "-c", str(config), "-e", "stderr", "-g", "daemon off;"]
    os.execv(binary, run)  # noqa: S606


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    main()

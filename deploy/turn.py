"""The production layout's TURN relay: coturn, configured from settings, for browsers whose
network keeps them from reaching the others (symmetric NATs on the mesh, UDP blocked on the
way to the media server).

`python -m deploy.turn check` refuses settings it cannot relay with and writes the
configuration; `python -m deploy.turn run` does the same, then becomes coturn in the
foreground (`turnserver`, Debian's `coturn`; its own configuration and service are never
used). The supervisor runs it when `TURN_SERVER=auto`, coturn is installed and `TURN_URLS`
names no relay of the deployment's own (deploy/supervisor.py), and hands its URLs and secret
to the web processes, which give browsers credentials that expire (rooms/media/ice.py).
"""

import argparse
import ipaddress
import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.template import Context, Engine

from deploy import nginx

TURNSERVER = os.environ.get("TURNSERVER_BINARY", "/usr/bin/turnserver")

# Where a relay must never send: this machine, private and shared networks, link-local (and
# with it cloud metadata services at 169.254.169.254), and the ranges reserved for
# benchmarks, documentation and the future. TURN_ALLOWED_PEER_IPS makes exceptions.
DENIED_NETWORKS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "100::/64",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
]


def folder() -> Path:
    return (settings.VAR_DIR / "turn").resolve()


def wanted() -> bool:
    """Whether the layout runs a relay of its own."""
    return (
        settings.TURN_SERVER == "auto"
        and not settings.TURN_URLS
        and shutil.which(TURNSERVER) is not None
    )


def tls() -> bool:
    return bool(settings.TLS_CERTIFICATE and settings.TLS_CERTIFICATE_KEY)


def urls() -> list[str]:
    """What browsers are told: UDP first, then TCP (UDP blocked), then TLS (only HTTPS
    passes)."""
    host = settings.TURN_PUBLIC_HOST
    if ":" in host:
        host = f"[{host}]"
    found = [
        f"turn:{host}:{settings.TURN_PORT}?transport=udp",
        f"turn:{host}:{settings.TURN_PORT}?transport=tcp",
    ]
    if tls():
        found.append(f"turns:{host}:{settings.TURN_TLS_PORT}?transport=tcp")
    return found


def denied() -> list[tuple[str, str]]:
    """The denied networks as coturn takes them (first-last), and the relay's own public
    address: relaying to itself would reach the services this machine exposes."""
    networks = [ipaddress.ip_network(network) for network in DENIED_NETWORKS]
    for address in (settings.TURN_EXTERNAL_IP, settings.TURN_LISTEN_IP):
        if address and address not in ("0.0.0.0", "::"):  # noqa: S104
            networks.append(ipaddress.ip_network(address))
    return [(str(network[0]), str(network[-1])) for network in networks]


def refusals() -> list[str]:
    problems = []
    if len(settings.TURN_SECRET) < nginx.SECRET_MIN_LENGTH:
        problems.append(
            f"TURN_SECRET is shorter than {nginx.SECRET_MIN_LENGTH} characters: set a random one "
            "(python3 -c 'import secrets; print(secrets.token_hex(32))')."
        )
    first, _, last = settings.TURN_RELAY_PORT_RANGE.partition("-")
    if not (first.isdigit() and last.isdigit() and 1024 <= int(first) <= int(last) <= 65535):
        problems.append(
            f"TURN_RELAY_PORT_RANGE is first-last ports: {settings.TURN_RELAY_PORT_RANGE}"
        )
    for entry in settings.TURN_ALLOWED_PEER_IPS:
        try:
            _span(entry)
        except ValueError:
            problems.append(
                f"TURN_ALLOWED_PEER_IPS has {entry}: an address, a network or first-last."
            )
    return problems


def _span(entry: str) -> tuple[str, str]:
    """An allowed entry (an address, a network such as 10.1.0.0/16, or first-last) as the
    first and last address coturn takes; ValueError when it is none of those."""
    entry = entry.strip()
    if "/" in entry:
        network = ipaddress.ip_network(entry)
        return str(network[0]), str(network[-1])
    first, _, last = entry.partition("-")
    return str(ipaddress.ip_address(first.strip())), str(
        ipaddress.ip_address((last or first).strip())
    )


def allowed() -> list[str]:
    """The allowed peer addresses as coturn takes them: an address, or first-last."""
    spans = [_span(entry) for entry in settings.TURN_ALLOWED_PEER_IPS]
    return [first if first == last else f"{first}-{last}" for first, last in spans]


def render() -> Path:
    """Writes VAR_DIR/turn/turnserver.conf from settings; returns its path."""
    folder().mkdir(parents=True, exist_ok=True, mode=0o700)
    first, _, last = settings.TURN_RELAY_PORT_RANGE.partition("-")
    engine = Engine(dirs=[Path(__file__).parent], autoescape=False)
    text = engine.get_template("turnserver.conf").render(
        Context(
            {
                "folder": folder(),
                "listen_ip": settings.TURN_LISTEN_IP,
                "port": settings.TURN_PORT,
                "tls": tls(),
                "tls_port": settings.TURN_TLS_PORT,
                "certificate": settings.TLS_CERTIFICATE,
                "certificate_key": settings.TLS_CERTIFICATE_KEY,
                "external_ip": settings.TURN_EXTERNAL_IP,
                "min_port": int(first),
                "max_port": int(last),
                "secret": settings.TURN_SECRET,
                "realm": settings.TURN_PUBLIC_HOST,
                "denied": denied(),
                "allowed": allowed(),
                "loopback_allowed": any(
                    ipaddress.ip_address(first).is_loopback
                    for first, _ in map(_span, settings.TURN_ALLOWED_PEER_IPS)
                ),
                "user_quota": settings.TURN_USER_QUOTA,
                "total_quota": settings.TURN_TOTAL_QUOTA,
                "max_bps": settings.TURN_MAX_BYTES_PER_SECOND,
            },
            autoescape=False,
        )
    )
    path = folder() / "turnserver.conf"
    # It holds the secret.
    path.touch(mode=0o600)
    path.write_text(text)
    return path


def check_or_exit() -> Path:
    problems = refusals()
    if problems:
        sys.exit("Refusing to relay:\n- " + "\n- ".join(problems))
    return render()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.turn", description=__doc__)
    parser.add_argument("action", choices=["check", "run"])
    args = parser.parse_args(argv)
    config = check_or_exit()
    if args.action == "check":
        sys.stdout.write(f"coturn configuration written to {config}; browsers get {urls()}\n")
        return
    binary = shutil.which(TURNSERVER)
    if binary is None:
        sys.exit(f"coturn is not installed (apt-get install coturn), looked for {TURNSERVER}.")
    os.execv(binary, [binary, "-c", str(config)])  # noqa: S606


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    main()

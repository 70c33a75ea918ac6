"""Homes behind NAT routers on a small internet, built from network namespaces, veth pairs
and iptables, for tests of how audio reaches people on real networks.

    internet: 198.51.100.100 (on its loopback: the relay's address), forwards between homes
      |-- 198.51.100.1/30 ---- 198.51.100.2/30 (wan) router 1 (NAT) 192.168.1.1 -- device 1
      |-- 198.51.100.5/30 ---- 198.51.100.6/30 (wan) router 2 (NAT) 192.168.2.1 -- device 2
      |-- 198.51.100.9/30 ---- 198.51.100.10/30 (eth0) the media server

Each router masquerades what leaves its `wan` with a random source port for every new
destination (`--random-fully`): a symmetric NAT, whose address a STUN server sees is of no
use to anyone else, and which lets in only answers from where a packet went. The addresses
are the documentation range TEST-NET-2; a relay refuses them unless told (the tests allow
198.51.100.0/24). A device reaches the web server at 127.0.0.1:<port> through a forwarder
(Namespace.forward_port).
"""

import contextlib
import subprocess
import uuid

from tests.support.netns import Namespace

RELAY_ADDRESS = "198.51.100.100"
# A media server's machine on the internet, in a namespace of its own.
MEDIA_SERVER_ADDRESS = "198.51.100.10"
MEDIA_SERVER_INTERFACE = "eth0"
INTERNET_RANGE = "198.51.100.0/24"
QUIET = "sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"


def _veth(first: Namespace, first_name: str, second: Namespace, second_name: str) -> None:
    """A veth pair from `first` (named `first_name` there) to `second`."""
    a, b = (f"rt{uuid.uuid4().hex[:10]}" for _ in range(2))
    subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=True)
    for name, namespace, final in ((a, first, first_name), (b, second, second_name)):
        subprocess.run(["ip", "link", "set", name, "netns", namespace.name], check=True)
        namespace.run(["ip", "link", "set", name, "name", final])
        namespace.run(["ip", "link", "set", final, "up"])


class Home:
    """A router with its NAT and one device behind it."""

    def __init__(self, internet: Namespace, number: int):
        self.number = number
        self.host_number = 2  # the device's address in the home network
        self.router = Namespace().create(
            f"ip link set lo up; {QUIET}; sysctl -q -w net.ipv4.ip_forward=1"
        )
        self.device = Namespace().create(f"ip link set lo up; {QUIET}")
        outside = f"198.51.100.{4 * number - 3}"
        self.public_address = f"198.51.100.{4 * number - 2}"
        _veth(internet, f"home{number}", self.router, "wan")
        internet.run(["ip", "addr", "add", f"{outside}/30", "dev", f"home{number}"])
        self.router.run(["ip", "addr", "add", f"{self.public_address}/30", "dev", "wan"])
        self.router.run(["ip", "route", "add", "default", "via", outside])
        _veth(self.router, "lan", self.device, "eth0")
        self.router.run(["ip", "addr", "add", f"192.168.{number}.1/24", "dev", "lan"])
        self.device.run(["ip", "addr", "add", f"{self.device_address}/24", "dev", "eth0"])
        self.device.run(["ip", "route", "add", "default", "via", f"192.168.{number}.1"])
        self.router.run(
            [
                "iptables",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                "wan",
                "-j",
                "MASQUERADE",
                "--random-fully",
            ]
        )

    def renumber(self) -> None:
        """The device's address changes, as a phone's does from one network to another: the
        old one is gone, and with it every socket bound to it and the NAT's mappings."""
        self.host_number += 1
        self.device.run(["ip", "addr", "flush", "dev", "eth0"])
        self.device.run(["ip", "addr", "add", f"{self.device_address}/24", "dev", "eth0"])
        self.device.run(["ip", "route", "add", "default", "via", f"192.168.{self.number}.1"])

    @property
    def device_address(self) -> str:
        return f"192.168.{self.number}.{self.host_number}"

    def drop_udp(self) -> None:
        """The device's network lets no UDP through, as many corporate firewalls do: only
        TCP (and TLS) gets out."""
        self.router.run(["iptables", "-A", "FORWARD", "-i", "lan", "-p", "udp", "-j", "DROP"])

    def delete(self) -> None:
        self.device.delete()
        self.router.delete()


class Internet:
    """The internet namespace, holding the relay's address, and the homes on it."""

    def __init__(self, homes: int):
        self.namespace = Namespace().create(
            f"ip link set lo up; {QUIET}; sysctl -q -w net.ipv4.ip_forward=1; "
            f"ip addr add {RELAY_ADDRESS}/32 dev lo"
        )
        self.homes: list[Home] = []
        self.media_server: Namespace | None = None
        try:
            for number in range(1, homes + 1):
                self.homes.append(Home(self.namespace, number))
            self.media_server = Namespace().create(f"ip link set lo up; {QUIET}")
            _veth(self.namespace, "media", self.media_server, MEDIA_SERVER_INTERFACE)
            self.namespace.run(["ip", "addr", "add", "198.51.100.9/30", "dev", "media"])
            self.media_server.run(
                ["ip", "addr", "add", f"{MEDIA_SERVER_ADDRESS}/30", "dev", MEDIA_SERVER_INTERFACE]
            )
            self.media_server.run(["ip", "route", "add", "default", "via", "198.51.100.9"])
        except BaseException:
            self.delete()
            raise

    def delete(self) -> None:
        for home in self.homes:
            with contextlib.suppress(Exception):
                home.delete()
        if self.media_server is not None:
            self.media_server.delete()
        self.namespace.delete()

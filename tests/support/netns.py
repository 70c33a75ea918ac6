"""A network namespace of the test's own, for media on a machine whose only interface is
loopback: Janus gathers ICE candidates only on a real interface, so the namespace holds a
veth end `v0` with 127.0.0.2, Janus is told to use it, and every media peer runs inside.

The web server stays outside; a forwarder makes its port reachable inside as well, and
Janus's API is a Unix socket, which crosses namespaces.
"""

import asyncio
import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

CLONE_NEWNET = 0x40000000
PEER_ADDRESS = "127.0.0.2"
SETUP = (
    "sysctl -q -w net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1; "
    "ip link set lo up; ip link add v0 type veth peer name v1; "
    f"ip addr add {PEER_ADDRESS}/32 dev v0; ip link set v1 up; ip link set v0 up"
)


def namespaces_available() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _setns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    with open(path) as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({path}) failed")


class Namespace:
    def __init__(self):
        self.name = f"rt{uuid.uuid4().hex[:10]}"
        self.path = f"/var/run/netns/{self.name}"
        self._listeners: list[socket.socket] = []

    def create(self, setup: str = SETUP) -> "Namespace":
        """Adds the namespace and runs `setup` (shell) inside: by default the veth end `v0`
        with PEER_ADDRESS."""
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run(["sh", "-c", setup])
        return self

    def delete(self) -> None:
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.close()
        subprocess.run(["ip", "netns", "delete", self.name], check=False)

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(self, command: list[str]) -> None:
        subprocess.run([*self.prefix, *command], check=True)

    def enter_this_thread(self) -> None:
        """Moves the calling thread (only it) into the namespace: sockets it makes from then
        on live there."""
        self.enter(self.path)

    @staticmethod
    def enter(path: str) -> None:
        """Moves the calling thread into the namespace at `path` (a child process knows only
        the path); threads it starts afterwards are inside too."""
        _setns(path)

    def inside(self, make):
        """Calls `make()` in a short-lived thread inside the namespace; returns its result."""
        result = {}

        def run():
            try:
                self.enter_this_thread()
                result["value"] = make()
            except BaseException as error:  # raised again in the caller
                result["error"] = error

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["value"]

    def forward_port(self, port: int) -> None:
        """127.0.0.1:<port> inside the namespace reaches 127.0.0.1:<port> outside."""

        def listen():
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(128)
            return listener

        listener = self.inside(listen)
        self._listeners.append(listener)
        threading.Thread(target=self._accept, args=(listener, port), daemon=True).start()

    def _accept(self, listener: socket.socket, port: int) -> None:
        while True:
            try:
                inner, _ = listener.accept()
            except OSError:
                return
            outer = socket.create_connection(("127.0.0.1", port))
            for source, target in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pipe, args=(source, target), daemon=True).start()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def run_inside(namespace: "Namespace", scenario) -> None:
    """Runs `scenario(outside)` in a thread inside the namespace (its peers' sockets too);
    `await outside(function)` runs a sync function (the database) in a thread outside."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: None).result()  # its one thread starts here, outside

        async def outside(function):
            return await asyncio.get_running_loop().run_in_executor(pool, function)

        namespace.inside(lambda: asyncio.run(scenario(outside)))
        pool.submit(connections.close_all).result()

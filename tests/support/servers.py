"""Real server processes for tests: daphne serving the project on the test database; and
what benchmarks read of processes (CPU from /proc)."""

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedSessionStore
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]


def _ephemeral_ports() -> range:
    """The ports the kernel hands out as the local end of outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except OSError:
        low, high = "32768", "60999"
    return range(int(low), int(high) + 1)


def free_port() -> int:
    """A free port of 127.0.0.1 below the ephemeral range. A port in that range can be taken
    by any outgoing connection before the server binds it, and a readiness probe of it can
    connect to itself (TCP simultaneous open) while nothing listens."""
    ephemeral = _ephemeral_ports()
    while True:
        # Above 10080, the highest of the ports Chromium refuses to open (ERR_UNSAFE_PORT).
        port = random.randrange(10081, ephemeral.start - 64)  # noqa: S311 (not a secret)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def listening(port: int) -> bool:
    """Whether a server accepts connections on this port of 127.0.0.1 (a connection of the
    probe to itself does not count)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
            return probe.getsockname() != probe.getpeername()
    except OSError:
        return False


@contextmanager
def benchmark_database():
    """A throw-away database next to the configured one (`bench_<name>`, or
    var/bench.sqlite3), made from the migrations and dropped after: a benchmark never touches
    the data of the tests or of `make run`."""
    database = settings.DATABASES["default"]
    database["TEST"]["NAME"] = (
        str(settings.VAR_DIR / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"bench_{database['NAME']}"
    )
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def session_keys(users, batch_size: int = 5000) -> list[str]:
    """A signed-in session per person, written in bulk: the value of the session cookie a
    client of a server process sends (benchmarks sign thousands of people in at once).

    Like a sign-in, it also puts each session in the cache that the session engine reads
    first (`cached_db`), so a server finds them there as it finds real ones."""
    expire = timezone.now() + timezone.timedelta(days=1)
    sessions = {
        uuid.uuid4().hex: {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        for user in users
    }
    Session.objects.bulk_create(
        (
            Session(session_key=key, session_data=SessionStore().encode(data), expire_date=expire)
            for key, data in sessions.items()
        ),
        batch_size=batch_size,
    )
    caches[settings.SESSION_CACHE_ALIAS].set_many(
        {CachedSessionStore(session_key=key).cache_key: data for key, data in sessions.items()},
        timeout=int(timezone.timedelta(days=1).total_seconds()),
    )
    return list(sessions)


def test_database_url() -> str:
    """The URL of the database the tests run on, for a process started by a test."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def project_env(**overrides) -> dict:
    """The environment of a child process: this test run's database, Redis and folders."""
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": test_database_url(),
        "VAR_DIR": str(settings.VAR_DIR),
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
        env["CHANNELS_PREFIX"] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class ChildProcess:
    """A process of the project started by a test, on this run's database and Redis, with
    its output in a log file for failure messages."""

    name = "process"
    stop_timeout = 10
    # Put before the command: `ip netns exec <name>` runs it in a network namespace.
    prefix: list[str] = []

    def __init__(self, **env):
        self.env = project_env(**env)
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"{self.name}-", suffix=".log")  # noqa: SIM115

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def argv(self) -> list[str]:
        return [*self.prefix, sys.executable, "-m", *self.command()]

    def start(self, timeout: float = 60):
        self.process = subprocess.Popen(
            self.argv(),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.output()}")
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout} s: {self.output()}")

    def output(self) -> str:
        """What the process printed so far."""
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the process dies without closing or acknowledging anything, as a crashed
        server or worker does."""
        self.process.kill()
        self.process.wait()


class ServerProcess(ChildProcess):
    """The project's web server (daphne, `python -m deploy.server`) on a free port of
    127.0.0.1, as `make run` starts it."""

    name = "daphne"

    def __init__(self, **env):
        super().__init__(**env)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return ["deploy.server", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]

    def ready(self) -> bool:
        return listening(self.port)


class RedisServer:
    """A throw-away redis-server on a port of its own, that a test stops and starts."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self) -> "RedisServer":
        options = [
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), *options], stdout=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return self
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def cache_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def clients(self) -> int:
        """Connections open to this server (the one asking included)."""
        return redis.Redis(port=self.port).info("clients")["connected_clients"]


class WorkerProcess(ChildProcess):
    """`celery -A config worker --pool=solo -Q celery,replays`, as `make run` starts it, on
    the test database and broker."""

    name = "worker"
    stop_timeout = 15

    def command(self) -> list[str]:
        return [
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            # Both queues, as `make run`'s worker takes them.
            "-Q",
            "celery,replays",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{os.getpid()}-{free_port()}@%h",
        ]

    def ready(self) -> bool:
        return " ready." in self.output()


class JanusProcess(ChildProcess):
    """A private Janus with our configuration (`manage.py run_janus`), its API on a Unix
    socket in a folder of its own. `prefix` runs it elsewhere (inside a network namespace)."""

    name = "janus"

    def __init__(self, folder: Path, *, prefix: list[str] = (), **env):
        self.folder = folder
        self.socket = folder / "janus.sock"
        self.prefix = list(prefix)
        super().__init__(
            JANUS_URL=f"unix:{self.socket}", DJANGO_SETTINGS_MODULE="config.settings", **env
        )

    def command(self) -> list[str]:
        return ["django", "run_janus", "--folder", str(self.folder / "config")]

    def ready(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(self.socket))
                return True
        except OSError:
            return False


class TurnProcess(ChildProcess):
    """The layout's TURN relay as the supervisor starts it (`python -m deploy.turn run`,
    coturn with our configuration), its files in VAR_DIR/turn; `env` holds its TURN_*
    settings."""

    name = "coturn"

    def __init__(self, port: int, **env):
        self.port = port
        super().__init__(TURN_PORT=port, **env)

    def command(self) -> list[str]:
        return ["deploy.turn", "run"]

    def ready(self) -> bool:
        return listening(self.port)


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports of 127.0.0.1."""
    while True:
        first = free_port()
        try:
            with contextlib.ExitStack() as held:
                for port in range(first, first + count):
                    probe = held.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue


def production_layout_or_skip() -> None:
    """Skips a module of production-layout tests on a machine without nginx or supervisord;
    fails it where they are required (REQUIRE_NGINX=1, as in CI)."""
    from deploy import nginx, supervisor  # noqa: PLC0415 (loaded with the settings)

    missing = [
        f"{binary} (apt-get install {package})"
        for binary, package in ((nginx.NGINX, "nginx"), (supervisor.SUPERVISORD, "supervisor"))
        if not shutil.which(binary)
    ]
    if not missing:
        return
    message = f"the production layout needs {', '.join(missing)}"
    if os.environ.get("REQUIRE_NGINX") == "1":
        pytest.fail(f"{message}, required here (REQUIRE_NGINX=1).", pytrace=False)
    pytest.skip(message, allow_module_level=True)


class ProductionLayout(ChildProcess):
    """What `make serve-prod` starts, as it starts it: `python -m deploy.supervisor run`,
    supervisord in front of nginx on one port, `web_processes` daphne processes, the Celery
    worker and beat (and a private Janus with `media`, a TURN relay on `turn_port` with
    `turn`), on this run's database and Redis,
    with a VAR_DIR of its own (nginx's files, static files, uploads, supervisord's files and
    the programs' logs). `url`/`ws_url` are nginx's."""

    name = "supervisord"
    # A stop waits for each web process's own bound (WEB_STOP_SECONDS), then the worker's.
    stop_timeout = 60

    def __init__(
        self, folder: Path, *, web_processes: int, media: bool = False, turn: bool = False, **env
    ):
        self.folder = folder
        self.media = media
        first = free_ports(web_processes + 1)
        self.web_ports = list(range(first, first + web_processes))
        self.port = first + web_processes
        self.turn_port = free_port()
        relay_ports = free_ports(10)
        super().__init__(
            TURN_SERVER="auto" if turn else "off",
            TURN_PORT=self.turn_port,
            TURN_RELAY_PORT_RANGE=f"{relay_ports}-{relay_ports + 9}",
            VAR_DIR=folder,
            WEB_PROCESSES=web_processes,
            WEB_PORT=first,
            PROXY_LISTEN=f"127.0.0.1:{self.port}",
            TRUSTED_PROXIES="127.0.0.1",
            **env,
        )

    def command(self) -> list[str]:
        return ["deploy.supervisor", "run", *(["--media"] if self.media else [])]

    def ready(self) -> bool:
        return all(listening(port) for port in [self.port, *self.web_ports])

    def start(self, timeout: float = 90) -> "ProductionLayout":
        collect = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if collect.returncode != 0:
            raise RuntimeError(f"collectstatic failed: {collect.stderr}")
        return super().start(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.folder / "nginx" / "access.log"

    @property
    def logs(self) -> Path:
        return self.folder / "supervisor" / "logs"

    def ctl(self, *args: str) -> str:
        """supervisorctl on this layout's supervisord; what it printed."""
        done = subprocess.run(
            ["supervisorctl", "-c", str(self.folder / "supervisor" / "supervisord.conf"), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout + done.stderr

    def states(self) -> dict[str, tuple[str, int | None]]:
        """Each program's state and pid, as supervisorctl's status tells them."""
        states = {}
        for line in self.ctl("status").splitlines():
            name, state, *rest = line.split()
            words = " ".join(rest)
            pid = int(words.split("pid ", 1)[1].split(",")[0]) if "pid " in words else None
            states[name] = (state, pid)
        return states

    def output(self) -> str:
        """supervisord's output, then every program's log."""
        parts = [super().output()]
        if self.logs.exists():
            parts += [
                f"--- {log.name}\n{log.read_text(errors='replace')}"
                for log in sorted(self.logs.glob("*.log"))
            ]
        return "\n".join(parts)


# --- CPU of processes, from /proc (benchmarks) ------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds: user + system, every thread) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def cpu_seconds(pid: int) -> float:
    return _stat(pid)[1]


def _processes() -> dict[int, tuple[int, float]]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                table[int(entry)] = _stat(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return table


def tree_cpu(roots: dict[str, int]) -> dict[str, dict[int, float]]:
    """For each named root pid: CPU seconds of every process in its tree, by pid."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    result = {}
    for name, root in roots.items():
        seen, todo = {}, [root]
        while todo:
            pid = todo.pop()
            if pid in table and pid not in seen:
                seen[pid] = table[pid][1]
                todo += children.get(pid, [])
        result[name] = seen
    return result


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds a tree used between two readings (processes born in between count whole;
    those that died in between are lost, which long-lived processes rarely do)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy() -> float:
    """CPU seconds all cores spent outside idle and iowait, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

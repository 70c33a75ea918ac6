import secrets
import shutil

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.core.cache import cache
from django.db import connections
from rest_framework.test import APIClient

from config.celery import app as celery_app
from realtime.delivery import serve_sockets_here
from tests.factories import UserFactory
from tests.support.helpers import ChannelListener
from tests.support.servers import RedisServer, ServerProcess, WorkerProcess

# Every frame a consumer sends is checked against its declaration (tests/support/contract.py).
pytest_plugins = ["tests.support.contract"]

# The tests talk to sockets in this process, as the web server does.
serve_sockets_here()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new layer per test: Redis layers bind locks and buffers to the loop that made them."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_eager():
    """Unit tests run tasks in-process; the integration tests start a real worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def listen():
    """Makes ChannelListeners on the real channel layer and closes them after the test."""
    made = []

    def make(*groups):
        made.append(ChannelListener(*groups))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


@pytest.fixture
async def thread_connections_closed():
    """Async tests reach the database from a worker thread; close its connections after."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def server():
    """A daphne process serving the project on the test database (and Redis, when set)."""
    process = ServerProcess().start()
    yield process
    process.stop()


@pytest.fixture
def workers():
    """Starts Celery worker processes on demand (`workers(**env)`) and stops whatever is left
    after."""
    started = []

    def start(**env):
        started.append(WorkerProcess(**env).start())
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def janus_secrets():
    """The API secret and admin key of the Janus processes a test starts."""
    return {
        "JANUS_API_SECRET": secrets.token_hex(16),
        "JANUS_ADMIN_KEY": secrets.token_hex(16),
    }


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def authed_client(user):
    """An API client signed in with a token (no CSRF involved)."""
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def redis_cache(settings):
    """The default cache on a throw-away redis-server, as the team's layout has it."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    redis_server = RedisServer().start()
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.FallbackRedisCache", "LOCATION": redis_server.url}
    }
    yield redis_server
    redis_server.stop()

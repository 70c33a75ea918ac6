import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.factories import UserFactory


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

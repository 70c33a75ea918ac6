import pytest

from tests.factories import UserFactory


@pytest.fixture
def host(db):
    return UserFactory(username="host", display_name="Host")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs the after-commit work (fan-out, pushes) of what happens inside, as a real
    commit would: `with committed(): room_create(...)`."""
    return lambda: django_capture_on_commit_callbacks(execute=True)

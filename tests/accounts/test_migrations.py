"""Addresses becoming unique whatever their case: accounts that shared one all stay."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("accounts", "0006_user_search_index")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest():
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    yield targets
    _migrate(targets)  # the next tests find the schema they expect


@pytest.mark.django_db(transaction=True)
def test_a_shared_address_stays_with_the_account_signed_into_last(latest):
    old = _migrate(BEFORE).get_model("accounts", "User").objects
    now = timezone.now()
    dormant = old.create(
        username="dormant", email="maya@example.org", last_login=now - timedelta(days=30)
    )
    active = old.create(username="active", email="Maya@Example.org", last_login=now)
    never = old.create(username="never", email="MAYA@example.org")
    alone = old.create(username="alone", email="theo@example.org")
    empty = [old.create(username=f"empty{n}", email="") for n in range(2)]

    new = _migrate(latest).get_model("accounts", "User").objects
    emails = dict(new.values_list("username", "email"))
    assert emails == {
        "dormant": "",
        "active": "Maya@Example.org",
        "never": "",
        "alone": "theo@example.org",
        "empty0": "",
        "empty1": "",
    }
    assert {dormant.pk, active.pk, never.pk, alone.pk, *(e.pk for e in empty)} == set(
        new.values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_display_names_saved_before_lose_their_direction_controls(latest):
    old = _migrate([("accounts", "0007_confirmed_unique_email")]).get_model("accounts", "User")
    old.objects.create(username="tricky", display_name="Maya\u202e dlrow\u2069")
    old.objects.create(username="plain", display_name="Theo")
    new = _migrate(latest).get_model("accounts", "User").objects
    assert dict(new.values_list("username", "display_name")) == {
        "tricky": "Maya dlrow",
        "plain": "Theo",
    }

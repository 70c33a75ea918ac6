import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from follows.models import Club, ClubMembership, Follow
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_a_living_site(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    maya = User.objects.get(username="maya")
    assert maya.check_password("roundtable-demo")
    assert User.objects.get(username="admin").is_superuser
    assert Follow.objects.filter(followee=maya).count() >= 3
    assert Club.objects.count() == 2
    assert ClubMembership.objects.filter(status=ClubMembership.Status.PENDING).exists()


def test_seed_demo_twice_adds_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), Follow.objects.count(), ClubMembership.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Follow.objects.count(), ClubMembership.objects.count()) == counts


def test_seed_demo_if_empty_leaves_a_used_site_alone(settings):
    settings.DEBUG = True
    UserFactory()
    call_command("seed_demo", if_empty=True)
    assert not User.objects.filter(username="maya").exists()


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="public password"):
        call_command("seed_demo")
    assert not User.objects.exists()

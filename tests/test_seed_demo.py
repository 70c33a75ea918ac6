import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from follows.models import Club, ClubMembership, Follow
from rooms.models import Room, RoomRsvp, Topic
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_a_living_site(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    maya = User.objects.get(username="maya")
    assert maya.check_password("roundtable-demo")
    assert User.objects.get(username="admin").is_superuser
    moderator = User.objects.get(username="mod")
    assert moderator.is_staff
    assert not moderator.is_superuser
    assert list(moderator.groups.values_list("name", flat=True)) == ["Moderators"]
    assert moderator.has_perm("moderation.change_report")
    assert Follow.objects.filter(followee=maya).count() >= 3
    assert Club.objects.count() == 2
    assert ClubMembership.objects.filter(status=ClubMembership.Status.PENDING).exists()
    upcoming = Room.objects.filter(status=Room.Status.SCHEDULED)
    assert upcoming.count() == 7
    assert upcoming.filter(club__slug="night-owls", host=maya).exists()
    assert RoomRsvp.objects.count() == 8
    # Every room has topics, and the week has rooms on most of its days.
    assert not upcoming.filter(topics=None).exists()
    assert Topic.objects.filter(rooms__in=upcoming).distinct().count() >= 8
    assert len({room.scheduled_for.date() for room in upcoming}) >= 6


def test_seed_demo_twice_adds_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo")

    def counts():
        return [m.objects.count() for m in (User, Follow, ClubMembership, Room, RoomRsvp)]

    before = counts()
    call_command("seed_demo")
    assert counts() == before


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
